"""``python -m wann.evaluate``: the command line lives in :mod:`wann.cli.evaluate`."""
from wann.cli.main import run_module_command

if __name__ == "__main__":
    raise SystemExit(run_module_command("evaluate"))
