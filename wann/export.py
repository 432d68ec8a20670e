"""``python -m wann.export``: the command line lives in :mod:`wann.cli.export`."""
from wann.cli.main import run_module_command

if __name__ == "__main__":
    raise SystemExit(run_module_command("export"))
