"""``python -m wann.prune``: the command line lives in :mod:`wann.cli.prune`."""
from wann.cli.main import run_module_command

raise SystemExit(run_module_command("prune"))
