"""Memory of a large search: resident set size per generation of a real command-line run.

Runs ``python -m wann.search configs/smoke.yaml`` with ``--pop`` genomes
(default 10,000) for ``--generations`` (default 20) on the process backend,
and samples the resident set size (RSS) of the search process and of the
whole process tree (search + workers) every 50 ms. For every generation
(from one progress line to the next) it keeps the lowest and the highest
sample: the floor is what the search holds between generations (a leak
raises it), the high mark adds what a generation allocates for a while (the
population's rewards, a checkpoint every 5 generations, which turns all
genomes into JSON). It prints the peaks and the growth of both from
generation 10 to the last. (The tree's RSS counts pages shared by the forked
workers once per process, so it overstates their sum.)

    python benchmarks/memory.py [--pop 10000] [--generations 20] [--workers 2]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


class Sampler(threading.Thread):
    """Samples the RSS of a process and of its tree until stopped; keeps the latest and the peaks."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.stop = threading.Event()
        self.main = self.tree = self.peak_main = self.peak_tree = 0
        self.window: list[tuple[int, int]] = []  # samples since the last progress line
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                main = self.proc.memory_info().rss
                tree = main + sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except psutil.Error:  # the process or a worker just ended
                time.sleep(self.interval)
                continue
            with self.lock:
                self.main, self.tree = main, tree
                self.peak_main, self.peak_tree = max(self.peak_main, main), max(self.peak_tree, tree)
                self.window.append((main, tree))
            time.sleep(self.interval)

    def take_window(self) -> tuple[int, int, int]:
        """(lowest search RSS, highest search RSS, highest tree RSS) since the last call."""
        with self.lock:
            window, self.window = self.window or [(self.main, self.tree)], []
        return min(m for m, _ in window), max(m for m, _ in window), max(t for _, t in window)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pop", type=int, default=10_000)
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB, "
          f"Python {platform.python_version()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-u", "-m", "wann.search", "configs/smoke.yaml",
               "--set", f"search.pop_size={args.pop}", "--set", f"search.generations={args.generations}",
               "--set", "run.save_every=5", "--workers", str(args.workers), "--out", str(Path(tmp) / "run")]
        print("$ " + " ".join(cmd[1:]), flush=True)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        sampler = Sampler(proc.pid)
        sampler.start()
        at_generation: dict[int, tuple[int, int, int]] = {}
        for line in proc.stdout:
            if line.startswith("gen "):
                generation = int(line.split()[1]) + 1  # generations completed
                at_generation[generation] = floor, high, tree = sampler.take_window()
                print(f"{line.rstrip()[:90]} | search {floor / MB:6.1f}-{high / MB:6.1f} MB | tree max "
                      f"{tree / MB:6.1f} MB", flush=True)
        proc.wait()
        sampler.stop.set()
        sampler.join()
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"search failed with exit status {proc.returncode}")
        return 1
    last = max(at_generation)
    mid = min(10, last)
    print(f"pop {args.pop}, {last} generations, {args.workers} workers, {seconds:.0f}s wall")
    print(f"peak RSS: search process {sampler.peak_main / MB:.0f} MB, whole tree {sampler.peak_tree / MB:.0f} MB")
    for k, what in enumerate(("floor of the search process", "high mark of the search process",
                              "high mark of the whole tree")):
        a, b = at_generation[mid][k], at_generation[last][k]
        print(f"{what}, generation {mid} -> {last}: {a / MB:.0f} -> {b / MB:.0f} MB ({b / a - 1:+.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
