"""Stop a long command cleanly on SIGINT, SIGTERM or SIGHUP.

Ctrl-C, a batch scheduler's SIGTERM (``scancel``, ``docker stop``) and a
closed terminal's SIGHUP all become one :class:`Stopped` (a
KeyboardInterrupt) in the main thread, so the search checkpoints and exits 0
whichever arrives. Later signals are ignored while it stops, and a signal
that arrives inside :meth:`GracefulStop.critical` (a log row, a checkpoint)
is held until that write is complete, so no file is ever cut in half.

The handler's exception can be lost: C code that clears every error while
it runs Python (numpy looking up ``__array_priority__`` through an enum's
``__getattr__`` does) swallows it. So the end of every critical block, and
:meth:`GracefulStop.check`, raise :class:`Stopped` again whenever a signal
has arrived: a long loop with a critical block per step stops at the end of
that step even then.
"""
from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from typing import Iterator

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                     if s is not None)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; ``signame`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signame = signal.Signals(signum).name


class GracefulStop:
    """Context manager: install the stop handlers, restore the old ones on exit."""

    def __init__(self) -> None:
        self.received: int | None = None  # the first stop signal, once one arrived
        self._deferring = 0
        self._old: dict[int, object] = {}
        self._pid = os.getpid()

    def __enter__(self) -> "GracefulStop":
        for signum in STOP_SIGNALS:
            self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._old.items():
            # once stopping, more signals of the volley must not kill the exiting process
            signal.signal(signum, signal.SIG_IGN if self.received is not None else handler)

    def _handle(self, signum: int, _frame) -> None:
        if os.getpid() != self._pid:  # a forked worker before it set its own handlers: default action
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if self.received is not None:
            return  # already stopping: the checkpoint is being written
        self.received = signum
        if not self._deferring:
            raise Stopped(signum)

    @property
    def signame(self) -> str:
        """Name of the signal received (empty when none)."""
        return signal.Signals(self.received).name if self.received is not None else ""

    def check(self) -> None:
        """Raise :class:`Stopped` if a stop signal has arrived (again, if its first raise was swallowed).

        Call it only where stopping is still to come: code that has caught
        :class:`Stopped` and is stopping must not call it (or :meth:`critical`).
        """
        if self.received is not None:
            raise Stopped(self.received)

    @contextmanager
    def critical(self) -> Iterator[None]:
        """A block that a stop signal must not cut: a signal that has arrived is raised when it ends."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if not self._deferring:
            self.check()
