"""``python -m wann <command>``: see :mod:`wann.cli.main`."""
from wann.cli.main import main

raise SystemExit(main())
