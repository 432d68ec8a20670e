"""``python -m wann.data mnist --path DIR [--download]``: check (or fetch) the MNIST IDX files.

Without ``--download`` nothing touches the network: the four files in DIR are
read and checked (magic numbers, sizes, image and label counts, labels 0..9)
and compared with the standard files' SHA-256. With ``--download`` the
missing files are fetched first from ``--url`` (default: the mirror
TensorFlow uses), each checked against its SHA-256 (the standard files', or
those of a ``sha256sum``-style ``--checksums`` file) before it is kept.
Bad input or a failed transfer: one line ``error: ...`` and exit status 2,
with no partial file left behind.
"""
from __future__ import annotations

import argparse
import sys
import time

from wann.cli.common import say_unless
from wann.tasks.mnist_data import DEFAULT_URL, download_mnist, read_checksums, verify_mnist


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.data``."""
    parser = argparse.ArgumentParser(prog="python -m wann.data", description="Check or download data sets.")
    sets = parser.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    mnist = sets.add_parser("mnist", help="the four MNIST IDX files (for the task wann/MNIST16-v0)",
                            description="Check the four MNIST IDX files in --path; --download fetches missing ones.")
    mnist.add_argument("--path", required=True, help="folder of the four IDX files (created by --download)")
    mnist.add_argument("--download", action="store_true", help="fetch missing files (with SHA-256 checks) first")
    mnist.add_argument("--url", default=DEFAULT_URL, help=f"base URL of the files for --download (default {DEFAULT_URL})")
    mnist.add_argument("--checksums", metavar="FILE",
                       help="sha256sum-style file with the expected SHA-256 of the four files (default: the standard files')")
    return parser


def run(args: argparse.Namespace) -> int:
    """Check (after downloading, with --download) the data set's files."""
    say = say_unless(False)
    if args.download:
        sums = read_checksums(args.checksums) if args.checksums else None
        t0 = time.perf_counter()
        fetched = download_mnist(args.path, args.url, sums, stream=sys.stderr, say=say)
        say(f"downloaded {len(fetched)} file(s) in {time.perf_counter() - t0:.1f}s")
    for report in verify_mnist(args.path):
        say(report.line())
    say(f"ok: {args.path} holds MNIST for wann/MNIST16-v0 (task.kwargs: {{path: {args.path}}})")
    return 0

