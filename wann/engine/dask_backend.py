"""The ``dask`` backend: the evaluator's jobs on a dask.distributed cluster.

A :class:`WannWorkerPlugin` carries the :class:`~wann.engine.evaluator.WorkerSetup`
(task spec, step limit, shared weights) to every worker once, including
workers that join or restart later; each job then travels as shards of flat
arrays and runs through the same :class:`~wann.engine.evaluator.Worker` code
as the process pool, so rewards are bit-identical to the ``processes``
backend. A worker lost mid-generation (killed, its machine gone) costs only a
retry of its shards, which the scheduler runs elsewhere; a scheduler that goes
away raises :class:`~wann.engine.evaluator.BackendLost`, on which the search
writes a checkpoint and exits.

``dask[distributed]`` is an optional extra: ``pip install -e ".[cluster]"``.
"""
from __future__ import annotations

import logging
import signal
import threading
import uuid
from contextlib import contextmanager
from typing import Iterator

from wann.engine.worker import BackendLost, Job, JobResult, Worker, WorkerSetup, probe_job
from wann.errors import UserError

CONNECT_TIMEOUT = "10s"  # to reach a running scheduler
ALLOWED_FAILURES = 3  # workers a shard may kill before the run gives up on it (dask's default)

try:  # the plugin must subclass dask's WorkerPlugin; without dask the backend refuses to start
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - exercised only without the extra
    WorkerPlugin = object  # type: ignore[misc,assignment]


class WannWorkerPlugin(WorkerPlugin):
    """Holds one evaluator setup on a dask worker: one :class:`Worker` per worker thread."""

    def __init__(self, worker_setup: WorkerSetup) -> None:
        self.worker_setup = worker_setup

    def setup(self, worker) -> None:
        """Runs on the worker when the plugin arrives: build this thread's Worker and load the kernels."""
        self._local = threading.local()
        self._workers: list[Worker] = []
        self._lock = threading.Lock()
        first = self.worker_for_thread()
        first.run(probe_job(first))

    def worker_for_thread(self) -> Worker:
        """This thread's Worker (a worker with several threads runs jobs side by side)."""
        own = getattr(self._local, "worker", None)
        if own is None:
            own = Worker(self.worker_setup)
            self._local.worker = own
            with self._lock:
                self._workers.append(own)
        return own

    def teardown(self, worker) -> None:
        """Close the envs when the plugin is removed or the worker stops."""
        for own in getattr(self, "_workers", []):
            own.close()


def run_job(job: Job, plugin_name: str) -> JobResult:
    """Task body on a dask worker: run ``job`` with the setup the named plugin holds."""
    from distributed import get_worker

    return get_worker().plugins[plugin_name].worker_for_thread().run(job)


class DaskBackend:
    """Jobs as dask tasks; the setup reaches every worker once through :class:`WannWorkerPlugin`.

    ``scheduler``: ``local`` starts a LocalCluster of ``n_workers`` one-thread
    processes on this machine; otherwise the address of a running scheduler
    (``tcp://host:8786``), whose workers' threads set :attr:`n_workers`.
    """

    task_function = staticmethod(run_job)  # what a task runs (tests wrap it to kill a worker mid-shard)

    def __init__(self, scheduler: str, n_workers: int) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise UserError("evaluation.backend: 'dask': dask.distributed is not installed; "
                            "pip install -e \".[cluster]\" (or pip install \"dask[distributed]\")") from None
        self.scheduler = scheduler or "local"
        self.n_workers = n_workers
        self._requested = n_workers
        self._cluster = None
        self._client = None
        self._plugin_name: str | None = None
        self._lost = False  # the scheduler went away or a gather was cut: closing logs nothing more

    @property
    def dashboard_link(self) -> str | None:
        """URL of the dask dashboard, once started."""
        return self._client.dashboard_link if self._client is not None else None

    def start(self, setup: WorkerSetup) -> None:
        """Start (or connect to) the cluster and send ``setup`` to every worker once."""
        from distributed import Client, LocalCluster

        self.close()
        _quiet_client_logs(logging.ERROR)  # lost connections are reported by us, in one line
        if self.scheduler == "local":
            with _children_ignore_terminal_signals():
                self._cluster = LocalCluster(n_workers=self._requested, threads_per_worker=1, processes=True,
                                             dashboard_address=":0", silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise UserError(f"evaluation.scheduler: {self.scheduler!r}: cannot connect to a dask scheduler "
                                f"({type(exc).__name__}: {exc})") from None
            self.n_workers = max(1, sum(self._client.nthreads().values()))
        self._plugin_name = f"wann-{uuid.uuid4().hex[:12]}"
        self._client.register_plugin(WannWorkerPlugin(setup), name=self._plugin_name)

    def map(self, jobs: list[Job]) -> list[JobResult]:
        """Submit every job as one task and gather the results in order."""
        from distributed import CancelledError, KilledWorker

        assert self._client is not None, "start() the backend first"
        futures = self._client.map(self.task_function, jobs, plugin_name=self._plugin_name, pure=False)
        try:
            return self._client.gather(futures)
        except KilledWorker as exc:
            self._lost = True
            raise BackendLost(f"a shard killed {ALLOWED_FAILURES} dask workers in a row ({_first_line(exc)})") from None
        except (OSError, TimeoutError, CancelledError) as exc:
            self._lost = True
            raise BackendLost(f"lost the dask scheduler {self.scheduler} "
                              f"({type(exc).__name__}: {_first_line(exc)})") from None
        except KeyboardInterrupt:  # a stop signal: the caller checkpoints; the cut gather must not log
            self._lost = True
            raise
        finally:
            del futures

    def close(self) -> None:
        """Disconnect; a LocalCluster this backend started is shut down."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if self._lost:
            # The caller has said what happened in one line (BackendLost, or a stop signal): the
            # client's reconnect attempts and its cut gather task must not add tracebacks.
            _quiet_client_logs(logging.CRITICAL + 1)
        if client is not None:
            if cluster is None and self._plugin_name and client.status == "running":
                try:
                    client.unregister_worker_plugin(self._plugin_name)
                except (OSError, TimeoutError, ValueError):
                    pass  # the cluster is gone or never had it: nothing to remove
            client.close()
        if cluster is not None:
            cluster.close()
        self._plugin_name = None


def _quiet_client_logs(level: int) -> None:
    """Raise the level of this process's distributed and asyncio loggers (the client side only)."""
    for name in [n for n in logging.root.manager.loggerDict if n.startswith(("distributed", "asyncio"))]:
        logging.getLogger(name).setLevel(level)
    for name in ("distributed", "asyncio"):
        logging.getLogger(name).setLevel(level)


@contextmanager
def _children_ignore_terminal_signals() -> Iterator[None]:
    """Start processes that ignore Ctrl-C and SIGHUP (an ignored signal stays ignored across exec).

    Ctrl-C reaches the whole process group: the search checkpoints and then
    closes the cluster, so its processes must not die with a traceback first.
    A signal arriving in this window (the cluster's start) is dropped.
    """
    names = [s for s in ("SIGINT", "SIGHUP") if hasattr(signal, s)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {name: signal.signal(getattr(signal, name), signal.SIG_IGN) for name in names}
    try:
        yield
    finally:
        for name, handler in old.items():
            signal.signal(getattr(signal, name), handler)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]
