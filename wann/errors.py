"""The one exception type for bad user input.

Anything a user controls (a config key, a command-line value, a champion,
checkpoint or data file) that is wrong raises :class:`UserError` with a
one-line message naming the file, key and value and what is allowed. The
command line prints that line and exits 2; any other exception is a bug and
keeps its traceback (exit 1).
"""


class UserError(ValueError):
    """Bad user input; ``str(error)`` is one line meant for the user."""
