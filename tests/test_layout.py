"""The package layout: import layers, no cycles, the command-line contract, and every README command."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wann.cli.common import run_tool
from wann.cli.main import COMMANDS
from wann.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
ENTRY_MODULES = {"wann.__main__", "wann.search", "wann.evaluate", "wann.tune", "wann.draw", "wann.plot",
                 "wann.watch", "wann.convert", "wann.export", "wann.study", "wann.data", "wann.prune.__main__"}


def import_graph() -> dict[str, set[str]]:
    """Every module of wann/ and the wann modules it imports (module level or inside functions)."""
    files = {}
    for path in (ROOT / "wann").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    head = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(head + ([base] if base else []))
                deps.add(base)
                deps.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def layer(module: str) -> str:
    """The folder a module belongs to: engine, tasks, builtin (task plugins), tools, cli, prune, or top."""
    parts = module.split(".")
    if module.startswith("wann.tasks.builtin"):
        return "builtin"
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in {"engine", "tasks", "tools", "cli", "prune"}) else "top"


def test_import_graph_has_no_cycles():
    graph = import_graph()
    assert "wann.tasks.builtin.cartpole_swingup" in graph and "wann.engine.search" in graph
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle.extend(trail[trail.index(dep):] + [node, dep] if dep in trail else [node, dep])
                return True
            if dep not in state and visit(dep, trail + [node]):
                return True
        state[node] = 2
        return False

    for module in sorted(graph):
        if module not in state and visit(module, []):
            break
    assert not cycle, f"import cycle: {' -> '.join(cycle)}"


def test_layers_import_only_downwards():
    """tasks <- engine <- tools <- cli; nothing but the cli and the thin entry modules imports the cli.

    The task interface (wann.tasks) knows nothing of the engine; the built-in
    tasks are plugins on top of both, like a user's task (the classification
    tasks use the engine's compiled kernel).
    """
    allowed = {
        "tasks": {"tasks", "top"},
        "builtin": {"builtin", "tasks", "engine", "top"},
        "engine": {"engine", "tasks", "top"},
        "tools": {"tools", "engine", "tasks", "top"},
        "prune": {"prune", "engine", "tasks", "builtin", "top"},
        "cli": {"cli", "tools", "engine", "tasks", "builtin", "prune", "top"},
    }
    graph = import_graph()
    wrong = []
    for module, deps in graph.items():
        if module in ENTRY_MODULES or layer(module) == "top":
            continue
        for dep in deps:
            if layer(dep) not in allowed[layer(module)] and dep != "wann":
                wrong.append(f"{module} -> {dep}")
    assert wrong == []
    # the top-level leaves (errors, the version) import nothing of the package
    assert graph["wann.errors"] == set() and graph["wann"] == set()
    # only the cli package and the entry modules import the cli
    assert [m for m, deps in graph.items() if any(layer(d) == "cli" for d in deps)
            and layer(m) != "cli" and m not in ENTRY_MODULES] == []


def test_entry_modules_are_thin():
    for module in ENTRY_MODULES:
        path = ROOT / (module.replace(".", "/") + ".py")
        code = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith('"""')]
        assert len(code) <= 4, module


def test_run_tool_turns_user_errors_into_exit_2_and_keeps_bugs(capsys):
    def bad_input() -> int:
        raise UserError("cfg.yaml: search.pop_size: -1: must be >= 1\nsecond line is dropped")

    assert run_tool(bad_input) == 2
    assert capsys.readouterr().err == "error: cfg.yaml: search.pop_size: -1: must be >= 1\n"

    def missing_file() -> int:
        open("/nonexistent/dir/champion.json")
        return 0

    assert run_tool(missing_file) == 2
    assert "error: /nonexistent/dir/champion.json: No such file or directory" in capsys.readouterr().err

    def bug() -> int:
        raise ValueError("an engine bug, not the user's input")

    with pytest.raises(ValueError, match="engine bug"):  # not swallowed as exit 2
        run_tool(bug)


@pytest.mark.slow
def test_an_engine_bug_prints_a_traceback_and_exits_1(tmp_path):
    """A bug inside a command (here: a task module whose env crashes mid-episode) is not reported as bad input."""
    (tmp_path / "crashtask.py").write_text(
        "import gymnasium as gym\n"
        "from wann.tasks import ActionRule, Task, register_task\n"
        "class Crash(gym.Env):\n"
        "    observation_space = gym.spaces.Box(-1, 1, (1,))\n"
        "    action_space = gym.spaces.Box(-1, 1, (1,))\n"
        "    def reset(self, seed=None, options=None):\n"
        "        return [0.0], {}\n"
        "    def step(self, action):\n"
        "        raise ZeroDivisionError('bug in step')\n"
        "register_task(Task('crash/Env-v0', 1, 1, ActionRule.clip(-1, 1), 5, env_factory=lambda render_mode=None: Crash()))\n"
    )
    config = tmp_path / "c.yaml"
    config.write_text("task:\n  name: crash/Env-v0\n  module: crashtask\nsearch:\n  pop_size: 4\n  generations: 1\n")
    proc = subprocess.run([sys.executable, "-m", "wann.search", str(config), "--out", str(tmp_path / "run"), "--quiet"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{ROOT}"})
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "ZeroDivisionError: bug in step" in proc.stderr


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_version_and_the_command_list():
    from wann import __version__

    for args in (("-m", "wann", "--version"), ("-m", "wann.search", "--version")):
        proc = _cli(*args)
        assert proc.returncode == 0 and proc.stdout.strip() == f"wann {__version__}", args
    proc = _cli("-m", "wann", "--help")
    assert proc.returncode == 0
    for command in ("search", "evaluate", "tune", "draw", "plot", "watch", "convert", "export", "study", "data", "tasks", "prune"):
        assert re.search(rf"^  {command}\s+\S", proc.stdout, re.M), command
    proc = _cli("-m", "wann", "serach")
    assert proc.returncode == 2 and "invalid choice: 'serach'" in proc.stderr


def test_wann_tasks_lists_sizes_and_paths():
    proc = _cli("-m", "wann", "tasks", "Pendulum-v1")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines()[1:] if line and not line.startswith("any ")}
    assert rows["wann/CartPoleSwingUp-v1"][1:3] == ["5", "1"] and rows["wann/CartPoleSwingUp-v1"][-1] == "fused"
    assert rows["wann/Digits-v0"][1:3] == ["64", "10"] and rows["wann/Digits-v0"][-1] == "classification"
    assert rows["Pendulum-v1"][1:4] == ["3", "1", "clip"]
    proc = _cli("-m", "wann", "tasks", "NoSuchEnv-v9")
    assert proc.returncode == 2 and proc.stderr.startswith("error: task.name: 'NoSuchEnv-v9'")


def readme_commands() -> list[list[str]]:
    """Every distinct ``python -m wann...`` / ``wann ...`` command named in the README, as its module argv."""
    text = (ROOT / "README.md").read_text()
    found = set()
    for match in re.finditer(r"(?:^|[\s`(])(?:python -m (wann(?:\.[a-z_]+)*)|wann ([a-z]+))(?=[\s`)]|$)", text, re.M):
        module, command = match.groups()
        if module:
            found.add(("-m", module))
        elif command in COMMANDS:
            found.add(("-m", "wann", command))
    return sorted(list(c) for c in found)


@pytest.mark.slow
@pytest.mark.parametrize("command", readme_commands(), ids=" ".join)
def test_every_readme_command_has_working_help(command):
    proc = _cli(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout or proc.stdout.startswith("|")  # wann.engine.config prints its table
