"""``python -m wann.watch``: the command line lives in :mod:`wann.cli.watch`."""
from wann.cli.main import run_module_command

if __name__ == "__main__":
    raise SystemExit(run_module_command("watch"))
