"""Keep BLAS single-threaded while pruning runs.

The matrices here are small (64x300 on digits): a multi-threaded BLAS spends
more time synchronising than computing, and on a busy 2-core machine one
training run was seen to take 50x longer with two BLAS threads than with one.
"""
from __future__ import annotations

import contextlib
import os


def limit_blas_threads_env() -> None:
    """Ask BLAS libraries for one thread via the environment (only works before numpy is imported)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """Context manager limiting BLAS to one thread (threadpoolctl when installed, else a no-op)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it rely on the environment
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
