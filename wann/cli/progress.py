"""Progress of long command-line work: a bar with ETA on a terminal, one line per step when piped.

Tools report through two callbacks, ``say(line)`` and ``tick(done, total)``;
:class:`Progress` supplies both. On a terminal the lines scroll above a tqdm
bar (elapsed time, rate, ETA); when the output is piped or redirected there
is no bar and every line is printed as it comes, so logs stay plain text.
"""
from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """``say`` and ``tick`` callbacks for a tool run, with a bar only on a terminal."""

    def __init__(self, description: str, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.description = description
        self.bar = None
        self.use_bar = not quiet and self.stream.isatty()

    def say(self, line: str) -> None:
        """Print one line (above the bar, if there is one)."""
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def tick(self, done: int, total: int) -> None:
        """``done`` of ``total`` steps are complete."""
        if not self.use_bar:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.description, file=self.stream, dynamic_ncols=True, leave=False)
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
