"""Config defaults, validation messages and overrides."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from wann.engine.config import (
    SECTIONS,
    Config,
    EvaluationConfig,
    RunConfig,
    SearchConfig,
    TaskConfig,
    apply_overrides,
    config_from_dict,
    load_config,
    reference_markdown,
)
from wann.errors import UserError

SECTION_CLASSES = (TaskConfig, SearchConfig, EvaluationConfig, RunConfig)


def write(tmp_path: Path, text: str, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def one_line_error(path_or_data, *, overrides=None, source="<config>") -> str:
    with pytest.raises(UserError) as info:
        if isinstance(path_or_data, Path):
            load_config(path_or_data, overrides)
        else:
            config_from_dict(path_or_data, source)
    msg = str(info.value)
    assert msg and "\n" not in msg, msg
    return msg


# ----------------------------------------------------------------------------- defaults


def test_defaults_are_the_papers_swing_up_settings():
    c = Config()
    s, e = c.search, c.evaluation
    assert s.pop_size == 192
    assert s.generations == 1024
    assert e.rollouts == 3
    assert e.shared_weights == [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]
    assert s.init_enable == 0.5
    assert (s.prob_add_connection, s.prob_add_node, s.prob_enable_connection, s.prob_change_activation) == (
        0.20, 0.25, 0.05, 0.50)
    assert s.elite_ratio == 0.2
    assert s.cull_ratio == 0.2
    assert s.tournament_size == 8
    assert s.prob_connection_objective == 0.8
    assert e.best_rollouts == 20
    assert s.hidden_activations == ["linear", "step", "sin", "gaussian", "tanh", "sigmoid",
                                    "inverse", "abs", "relu", "cos"]
    assert c.run.save_every == 8
    assert c.task.name == "wann/CartPoleSwingUp-v1"


def test_empty_config_is_the_defaults(tmp_path):
    assert config_from_dict({}).to_dict() == Config().to_dict()
    assert config_from_dict(None).to_dict() == Config().to_dict()
    c = load_config(write(tmp_path, "", "empty.yaml"))
    expected = Config().to_dict()
    expected["run"]["name"] = "empty"  # the file's stem names the run
    assert c.to_dict() == expected


def test_list_defaults_are_not_shared():
    a, b = Config(), Config()
    a.evaluation.shared_weights.append(9.0)
    a.search.hidden_activations.remove("step")
    assert b.evaluation.shared_weights == [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]
    assert "step" in b.search.hidden_activations


def test_values_are_read(tmp_path):
    path = write(tmp_path, """
search:
  pop_size: 64
  init_enable: 1          # int accepted for a float
  hidden_activations: [tanh, relu]
evaluation:
  shared_weights: [-1, 0.5, 2]
  rollouts: 4
run:
  seed: 7
  name: mine
""")
    c = load_config(path)
    assert c.search.pop_size == 64
    assert c.search.init_enable == 1.0 and isinstance(c.search.init_enable, float)
    assert c.search.hidden_activations == ["tanh", "relu"]
    assert c.evaluation.shared_weights == [-1.0, 0.5, 2.0]
    assert all(isinstance(w, float) for w in c.evaluation.shared_weights)
    assert c.evaluation.rollouts == 4
    assert c.run.seed == 7 and c.run.name == "mine"
    assert c.search.generations == 1024  # untouched keys keep defaults


# ----------------------------------------------------------------------------- unknown keys


def test_unknown_key_suggests_closest(tmp_path):
    path = write(tmp_path, "search:\n  pop_siz: 10\n")
    msg = one_line_error(path)
    assert str(path) in msg
    assert "pop_siz" in msg
    assert "'pop_size'" in msg


@pytest.mark.parametrize("section,key,closest", [
    ("search", "tournament", "tournament_size"),
    ("search", "elite_ration", "elite_ratio"),
    ("evaluation", "shared_weight", "shared_weights"),
    ("evaluation", "rollout", "rollouts"),
    ("run", "seeed", "seed"),
    ("search", "population", "pop_size"),  # a shared word part beats spelling distance ('cull_ratio')
    ("search", "activations", "hidden_activations"),
])
def test_unknown_keys_rejected_with_closest(section, key, closest):
    msg = one_line_error({section: {key: 1}}, source="cfg.yaml")
    assert msg.startswith("cfg.yaml")
    assert key in msg and repr(closest) in msg


def test_unknown_section_suggests_closest():
    msg = one_line_error({"serach": {"pop_size": 10}}, source="cfg.yaml")
    assert "cfg.yaml" in msg and "serach" in msg and "'search'" in msg


def test_unknown_activation_suggests_closest():
    msg = one_line_error({"search": {"hidden_activations": ["tanh", "rleu"]}}, source="cfg.yaml")
    assert "cfg.yaml" in msg and "rleu" in msg and "'relu'" in msg


# ----------------------------------------------------------------------------- types and ranges


BAD_VALUES = [
    ("search", "pop_size", "ten", "'ten'"),
    ("search", "pop_size", 64.5, "64.5"),
    ("search", "pop_size", True, "true"),
    ("search", "init_enable", "half", "'half'"),
    ("search", "init_enable", [0.5], "[0.5]"),
    ("search", "hidden_activations", "tanh", "'tanh'"),
    ("search", "hidden_activations", [], "[]"),
    ("evaluation", "shared_weights", [1, "a"], "[1, a]"),
    ("evaluation", "shared_weights", 1.0, "1.0"),
    ("evaluation", "backend", 3, "3"),
    ("run", "name", 5, "5"),
    # out of range
    ("search", "pop_size", 1, "1"),
    ("search", "generations", 0, "0"),
    ("search", "init_enable", 1.5, "1.5"),
    ("search", "init_enable", -0.1, "-0.1"),
    ("search", "cull_ratio", 1.0, "1.0"),
    ("search", "elite_ratio", -0.5, "-0.5"),
    ("search", "tournament_size", 0, "0"),
    ("search", "prob_add_node", -0.25, "-0.25"),
    ("search", "prob_connection_objective", 1.01, "1.01"),
    ("evaluation", "rollouts", 0, "0"),
    ("evaluation", "best_rollouts", -3, "-3"),
    ("evaluation", "workers", -1, "-1"),
    ("evaluation", "backend", "threads", "'threads'"),
    ("run", "seed", -1, "-1"),
    ("run", "save_every", 0, "0"),
]


@pytest.mark.parametrize("section,key,value,shown", BAD_VALUES,
                         ids=[f"{s}.{k}={v!r}" for s, k, v, _ in BAD_VALUES])
def test_bad_values_give_one_line_error_naming_file_key_value(tmp_path, section, key, value, shown):
    import yaml

    path = write(tmp_path, yaml.safe_dump({section: {key: value}}))
    msg = one_line_error(path)
    assert str(path) in msg
    assert f"{section}.{key}" in msg
    assert shown in msg


@pytest.mark.parametrize("text,key", [
    ("search:\n  init_enable: .nan\n", "search.init_enable"),
    ("search:\n  prob_connection_objective: .nan\n", "search.prob_connection_objective"),
    ("search:\n  prob_add_node: .inf\n", "search.prob_add_node"),
    ("search:\n  cull_ratio: .nan\n", "search.cull_ratio"),
    ("evaluation:\n  shared_weights: [1.0, .nan]\n", "evaluation.shared_weights"),
    ("evaluation:\n  shared_weights: [-.inf, 1.0]\n", "evaluation.shared_weights"),
], ids=["init_enable-nan", "prob_conn_obj-nan", "prob_add_node-inf", "cull_ratio-nan",
        "shared_weights-nan", "shared_weights-inf"])
def test_non_finite_numbers_rejected(tmp_path, text, key):
    """NaN compares false against every bound, so a range check alone lets it through."""
    path = write(tmp_path, text)
    msg = one_line_error(path)
    assert str(path) in msg and key in msg


def test_whole_config_checks():
    msg = one_line_error({"search": {"elite_ratio": 0.6, "cull_ratio": 0.5}}, source="cfg.yaml")
    assert "cfg.yaml" in msg and "elite_ratio" in msg
    msg = one_line_error({"search": {"prob_add_connection": 0, "prob_add_node": 0,
                                     "prob_enable_connection": 0, "prob_change_activation": 0}},
                         source="cfg.yaml")
    assert "cfg.yaml" in msg and "prob_" in msg
    # one positive rate is enough
    c = config_from_dict({"search": {"prob_add_connection": 0, "prob_add_node": 1,
                                     "prob_enable_connection": 0, "prob_change_activation": 0}})
    assert c.search.prob_add_node == 1.0


def test_bad_structure_errors(tmp_path):
    msg = one_line_error(write(tmp_path, "- 1\n- 2\n"))
    assert str(tmp_path) in msg
    msg = one_line_error(write(tmp_path, "search: 5\n", "b.yaml"))
    assert "search" in msg and "5" in msg
    msg = one_line_error(write(tmp_path, "search:\n  pop_size: [1,\n", "c.yaml"))
    assert "c.yaml" in msg and "YAML" in msg
    msg = one_line_error(tmp_path / "missing.yaml")
    assert "missing.yaml" in msg


# ----------------------------------------------------------------------------- overrides


def test_apply_overrides():
    data = {"search": {"pop_size": 10}, "run": None}
    keys = apply_overrides(data, [
        "search.pop_size=64",
        "search.init_enable=0.25",
        "evaluation.shared_weights=[-1, 1]",
        "run.name=abc=def",
        "search.hidden_activations=[tanh, relu]",
    ])
    out = data  # overrides are applied in place; the overridden keys are returned
    assert keys == {"search.pop_size", "search.init_enable", "evaluation.shared_weights", "run.name",
                    "search.hidden_activations"}
    assert out["search"] == {"pop_size": 64, "init_enable": 0.25, "hidden_activations": ["tanh", "relu"]}
    assert out["evaluation"] == {"shared_weights": [-1, 1]}
    assert out["run"] == {"name": "abc=def"}
    c = config_from_dict(out)
    assert c.search.pop_size == 64 and c.evaluation.shared_weights == [-1.0, 1.0]


def test_overrides_through_load_config(tmp_path):
    path = write(tmp_path, "search:\n  pop_size: 10\n  generations: 5\n")
    c = load_config(path, ["search.pop_size=32", "evaluation.rollouts=2"])
    assert c.search.pop_size == 32 and c.search.generations == 5 and c.evaluation.rollouts == 2
    # overridden values are validated like file values
    msg = one_line_error(path, overrides=["search.pop_size=1"])
    assert "search.pop_size" in msg and "1" in msg
    msg = one_line_error(path, overrides=["search.pop_sise=12"])
    assert "'pop_size'" in msg


@pytest.mark.parametrize("bad", ["search.pop_size", "pop_size=3", "=3"])
def test_malformed_overrides(bad):
    with pytest.raises(UserError) as info:
        apply_overrides({}, [bad])
    msg = str(info.value)
    assert "\n" not in msg and bad in msg


# ----------------------------------------------------------------------------- docs


@pytest.mark.parametrize("cls", SECTION_CLASSES, ids=lambda c: c.__name__)
def test_every_field_has_a_one_line_doc(cls):
    fields = dataclasses.fields(cls)
    assert fields
    for f in fields:
        doc = f.metadata.get("doc")
        assert isinstance(doc, str) and doc.strip(), f.name
        assert "\n" not in doc, f.name


def test_sections_cover_config():
    assert list(SECTIONS) == ["task", "search", "evaluation", "run"]
    assert [f.name for f in dataclasses.fields(Config)] == list(SECTIONS)


def test_reference_markdown_lists_every_key():
    text = reference_markdown()
    for section, factory in SECTIONS.items():
        for f in dataclasses.fields(factory()):
            assert f"`{section}.{f.name}`" in text
            assert f.metadata["doc"] in text
