"""``python -m wann.study``: the command line lives in :mod:`wann.cli.study`."""
from wann.cli.main import run_module_command

if __name__ == "__main__":
    raise SystemExit(run_module_command("study"))
