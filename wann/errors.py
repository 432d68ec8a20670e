"""The one exception type for bad user input.

Anything a user controls (a config key, a command-line value, a champion,
checkpoint or data file) that is wrong raises :class:`UserError` with a
one-line message naming the file, key and value and what is allowed. The
command line prints that line and exits 2; any other exception is a bug and
keeps its traceback (exit 1). :func:`closest` adds the "did you mean" hint
that such messages end with.
"""

import difflib
from typing import Any, Iterable


class UserError(ValueError):
    """Bad user input; ``str(error)`` is one line meant for the user."""


def closest(word: Any, options: Iterable[Any]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or an empty string.

    An option is preferred when it alone has a word part (3+ letters) that
    starts the user's word or that the word starts (``population`` ->
    ``pop_size``, which spelling distance ranks below ``cull_ratio``).
    """
    word, names = str(word), [str(o) for o in options]
    lead = word.lower().split("_")[0]

    def shares_part(name: str) -> bool:
        return any(len(part) >= 3 and (lead.startswith(part) or (len(lead) >= 3 and part.startswith(lead)))
                   for part in name.lower().split("_"))

    by_part = [n for n in names if shares_part(n)]
    close = difflib.get_close_matches(word, names, n=1)
    if len(by_part) == 1 and not (close and difflib.SequenceMatcher(None, word, close[0]).ratio() >= 0.8):
        close = by_part
    return f" (did you mean {close[0]!r}?)" if close else ""
