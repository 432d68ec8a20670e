"""``python -m wann.data``: the command line lives in :mod:`wann.cli.data`."""
from wann.cli.main import run_module_command

if __name__ == "__main__":
    raise SystemExit(run_module_command("data"))
