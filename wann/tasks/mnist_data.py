"""MNIST from the four standard IDX files: read, verify, download (on request), preprocess.

Nothing here runs at import time and nothing is ever downloaded unless
:func:`download_mnist` is called (``python -m wann.data mnist --download``).
Every problem with a file is a ``ValueError`` whose message is one line naming
the file, so the command line tools report it and exit 2.

Preprocessing (:func:`preprocess`) follows the paper: deskew by image
moments, then resize to 16x16 with bilinear interpolation; pixels are scaled
to [0, 1] first. Both steps are written in numpy from their definitions
(OpenCV's ``moments``, ``warpAffine`` with ``WARP_INVERSE_MAP`` and
``resize`` with ``INTER_LINEAR``, which the reference code calls), in float64:
OpenCV rounds its sample positions and weights to fixed point, so pixel values
can differ from the reference's in the last one or two percent.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

import numpy as np

from wann.errors import UserError

# The four files, by role, as the standard distribution names them (gzipped).
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
# SHA-256 and size of the standard files (the same bytes on every known mirror).
STANDARD_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
STANDARD_BYTES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}
# The mirror TensorFlow and others use (yann.lecun.com often refuses downloads).
DEFAULT_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
N_CLASSES = 10
CHUNK_BYTES = 1 << 16
PREPROCESS_ORDERS = ("deskew_resize", "resize_deskew", "resize")


# ---- reading and checking -------------------------------------------------------


def find_file(folder: str | Path, role: str) -> Path:
    """The file of ``role`` (e.g. ``train_images``) in ``folder``: the standard name, gzipped or not."""
    folder = Path(folder)
    name = MNIST_FILES[role]
    for candidate in (name, name[:-3]):
        if (folder / candidate).is_file():
            return folder / candidate
    raise UserError(f"{folder / name}: missing (nor {name[:-3]}); "
                     f"run python -m wann.data mnist --path {folder} --download, or copy the four IDX files there")


IDX_TYPES = {  # IDX type code -> element dtype (big-endian in the file)
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | Path, magic: int | None = None) -> np.ndarray:
    """One IDX file (optionally gzipped) as an array in native byte order.

    With ``magic`` (:data:`IMAGE_MAGIC` or :data:`LABEL_MAGIC`) the file must
    start with exactly that magic number. UserError in one line naming the
    file on a wrong magic number, a truncated file or trailing bytes.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read IDX file: {exc.strerror}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise UserError(f"{path}: broken or truncated gzip file ({exc})") from None
    if len(raw) < 4:
        raise UserError(f"{path}: not an IDX file: {len(raw)} bytes, shorter than the 4-byte magic number")
    got = int.from_bytes(raw[:4], "big")
    if magic is not None and got != magic:
        what = "images" if magic == IMAGE_MAGIC else "labels"
        raise UserError(f"{path}: wrong magic number 0x{got:08x}; MNIST {what} files start with 0x{magic:08x}")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in IDX_TYPES or ndim == 0:
        raise UserError(
            f"{path}: not an IDX file: wrong magic number 0x{raw[:4].hex()} "
            f"(expected 0x0000TTNN: type TT in 08/09/0b/0c/0d/0e, NN >= 1 dimensions; MNIST images are 0x00000803)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UserError(f"{path}: truncated IDX file: header needs {header} bytes, file has {len(raw)}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    count = int(np.prod(dims, dtype=np.int64))
    have, expected = len(raw) - header, count * dtype.itemsize
    if have < expected:
        raise UserError(f"{path}: truncated IDX file: dimensions {dims} need {expected} data bytes, file has {have}")
    if have > expected:
        raise UserError(f"{path}: IDX file has {have - expected} bytes after the data of dimensions {dims} (wrong file?)")
    return np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


@dataclass(frozen=True)
class MnistArrays:
    """The four MNIST arrays as stored: uint8 images [n, rows, cols] and uint8 labels [n]."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_mnist(folder: str | Path) -> MnistArrays:
    """Read and cross-check the four IDX files in ``folder``; ValueError in one line on any problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder; give the folder that holds the four MNIST IDX files")
    arrays = {}
    for role in MNIST_FILES:
        path = find_file(folder, role)
        arrays[role] = read_idx(path, IMAGE_MAGIC if role.endswith("images") else LABEL_MAGIC)
        if role.endswith("labels") and len(arrays[role]) and int(arrays[role].max()) >= N_CLASSES:
            raise UserError(f"{path}: label {int(arrays[role].max())} found; MNIST labels are 0..9")
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise UserError(f"{find_file(folder, split + '_labels')}: {len(labels)} labels for {len(images)} {split} images")
        if len(images) == 0:
            raise UserError(f"{find_file(folder, split + '_images')}: no images")
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise UserError(f"{folder}: train images are {arrays['train_images'].shape[1:]} pixels, "
                         f"test images {arrays['test_images'].shape[1:]}")
    return MnistArrays(**arrays)


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (as stored, i.e. of the .gz for gzipped files)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileReport:
    """What :func:`verify_mnist` found for one file."""

    role: str
    path: Path
    shape: tuple[int, ...]
    sha256: str
    standard: bool | None  # byte-identical to the standard .gz file (None: uncompressed, not comparable)

    def line(self) -> str:
        """One line for the command line."""
        if self.standard is None:
            mark = "uncompressed, structure ok (the standard checksums are of the .gz files)"
        else:
            mark = "standard file (sha256 ok)" if self.standard else "not the standard file's bytes (structure ok)"
        return f"{self.path}: {'x'.join(str(d) for d in self.shape)} {self.role.replace('_', ' ')}, {mark}"


def verify_mnist(folder: str | Path) -> list[FileReport]:
    """Check the four files (magic numbers, sizes, counts, labels) and compare them with the standard bytes."""
    arrays = load_mnist(folder)
    reports = []
    for role in MNIST_FILES:
        path = find_file(folder, role)
        digest = sha256_of(path)
        standard = STANDARD_SHA256[path.name] == digest if path.name in STANDARD_SHA256 else None
        reports.append(FileReport(role, path, tuple(getattr(arrays, role).shape), digest, standard))
    return reports


# ---- download (only on request) -----------------------------------------------------


def read_checksums(path: str | Path) -> dict[str, str]:
    """``{file name: sha256}`` from a ``sha256sum``-style file (``HEX  NAME`` per line)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise UserError(f"{path}: cannot read checksums: {exc.strerror}") from None
    sums = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64 or any(c not in "0123456789abcdefABCDEF" for c in parts[0]):
            raise UserError(f"{path}: line {number}: expected '<64 hex digits>  <file name>', got {line.strip()!r}")
        sums[parts[1].lstrip("*")] = parts[0].lower()
    missing = [name for name in MNIST_FILES.values() if name not in sums]
    if missing:
        raise UserError(f"{path}: no checksum for {missing[0]}; it must list all four MNIST files")
    return sums


class ProgressBar:
    """A one-line progress bar on ``stream`` (redrawn in place on a terminal, a few lines otherwise)."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.label, self.total = label, total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self._last_quarter = -1
        self._last_draw = 0.0

    def update(self, n: int) -> None:
        """Count ``n`` more bytes."""
        self.done += n
        now = time.monotonic()
        if self.tty and now - self._last_draw > 0.1:
            self._last_draw = now
            self.stream.write("\r" + self._text())
            self.stream.flush()
        elif not self.tty and self.total:
            quarter = 4 * self.done // self.total
            if quarter > self._last_quarter and quarter < 4:
                self._last_quarter = quarter
                self.stream.write(self._text() + "\n")

    def close(self) -> None:
        """Draw the final state and end the line."""
        self.stream.write(("\r" if self.tty else "") + self._text() + "\n")
        self.stream.flush()

    def _text(self) -> str:
        mb = self.done / 1e6
        if not self.total:
            return f"  {self.label} {mb:.1f} MB"
        frac = min(1.0, self.done / self.total)
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        return f"  {self.label} [{bar}] {100 * frac:3.0f}% {mb:.1f}/{self.total / 1e6:.1f} MB"


def download_file(url: str, dest: str | Path, sha256: str, stream: TextIO | None = None,
                  timeout: float = 60.0) -> Path:
    """Fetch ``url`` into ``dest`` with a progress bar; keep it only if its SHA-256 is ``sha256``.

    The bytes go to a hidden temp file next to ``dest``, renamed into place
    after the checksum passed. Any failure (HTTP error, an interrupted or
    short transfer, a wrong checksum, Ctrl-C) removes the temp file and
    leaves ``dest`` untouched; failures raise ValueError in one line.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    digest = hashlib.sha256()
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                bar = ProgressBar(dest.name, total, stream)
                received = 0
                while True:
                    block = response.read(CHUNK_BYTES)
                    if not block:
                        break
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    bar.update(len(block))
                bar.close()
                if total is not None and received != total:
                    raise UserError(f"{url}: transfer interrupted after {received} of {total} bytes; nothing kept")
        except urllib.error.HTTPError as exc:
            raise UserError(f"{url}: HTTP {exc.code} {exc.reason}; nothing kept") from None
        except urllib.error.URLError as exc:
            raise UserError(f"{url}: cannot connect: {exc.reason}; nothing kept") from None
        except (OSError, EOFError, http.client.HTTPException) as exc:  # IncompleteRead, resets, timeouts
            raise UserError(f"{url}: transfer interrupted ({type(exc).__name__}: {exc}); nothing kept") from None
        got = digest.hexdigest()
        if got != sha256.lower():
            raise UserError(f"{dest}: sha256 mismatch: downloaded {got}, expected {sha256.lower()} "
                             f"(from {url}); nothing kept")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def download_mnist(folder: str | Path, base_url: str = DEFAULT_URL, checksums: dict[str, str] | None = None,
                   stream: TextIO | None = None, say: Callable[[str], None] | None = None) -> list[Path]:
    """Fetch whichever of the four gzipped files ``folder`` lacks (or holds with other bytes).

    Files already present with the expected SHA-256 are kept. ``checksums``
    (file name -> sha256) defaults to the standard files'.
    """
    sums = checksums or STANDARD_SHA256
    say = say or (lambda _m: None)
    folder = Path(folder)
    base = base_url if base_url.endswith("/") else base_url + "/"
    written = []
    for name in MNIST_FILES.values():
        dest = folder / name
        if dest.is_file() and sha256_of(dest) == sums[name]:
            say(f"  {dest}: present, sha256 ok")
            continue
        written.append(download_file(base + name, dest, sums[name], stream))
    return written


# ---- preprocessing ----------------------------------------------------------------------


def resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """float64[n_out, n_in]: bilinear resampling along one axis (OpenCV's INTER_LINEAR rule).

    Output pixel d samples the input at ``(d + 0.5) * n_in / n_out - 0.5``
    (pixel centres aligned), clamped to the first and last input pixel.
    """
    scale = n_in / n_out
    matrix = np.zeros((n_out, n_in))
    for d in range(n_out):
        pos = max(0.0, (d + 0.5) * scale - 0.5)
        left = int(np.floor(pos))
        frac = pos - left
        if left >= n_in - 1:
            left, frac = n_in - 1, 0.0
        matrix[d, left] += 1.0 - frac
        if frac > 0.0:
            matrix[d, left + 1] += frac
    return matrix


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """Images float64[n, h, w] -> [n, size, size] by separable bilinear resampling."""
    images = np.asarray(images, dtype=np.float64)
    rows = resize_matrix(images.shape[1], size)
    cols = resize_matrix(images.shape[2], size)
    return rows @ images @ cols.T


def skew_of(images: np.ndarray) -> np.ndarray:
    """float64[n]: mu11 / mu02 of each image's central moments (0 where |mu02| < 1e-2, as the reference)."""
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape
    y = np.arange(h, dtype=np.float64)[None, :, None]
    x = np.arange(w, dtype=np.float64)[None, None, :]
    m00 = images.sum(axis=(1, 2))
    safe = np.where(m00 > 0, m00, 1.0)
    xc = (images * x).sum(axis=(1, 2)) / safe
    yc = (images * y).sum(axis=(1, 2)) / safe
    dy = y - yc[:, None, None]
    mu11 = (images * (x - xc[:, None, None]) * dy).sum(axis=(1, 2))
    mu02 = (images * dy * dy).sum(axis=(1, 2))
    ok = np.abs(mu02) >= 1e-2
    return np.where(ok, mu11 / np.where(ok, mu02, 1.0), 0.0)


def deskew(images: np.ndarray) -> np.ndarray:
    """Shear each image so its principal axis is vertical (the reference's ``deskew``).

    Output pixel (y, x) takes the input at column ``x + skew * (y - h / 2)`` of
    row y, linearly interpolated, zero outside the image (OpenCV's
    ``warpAffine`` of the matrix [[1, skew, -skew h / 2], [0, 1, 0]] with
    ``WARP_INVERSE_MAP``).
    """
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape
    skew = skew_of(images)
    pos = np.arange(w, dtype=np.float64)[None, None, :] + skew[:, None, None] * (
        np.arange(h, dtype=np.float64)[None, :, None] - h / 2.0)
    left = np.floor(pos)
    frac = pos - left
    padded = np.zeros((n, h, w + 2))  # columns 0 and w + 1 are the zero border
    padded[:, :, 1:w + 1] = images
    i0 = np.clip(left.astype(np.int64) + 1, 0, w + 1)
    i1 = np.clip(left.astype(np.int64) + 2, 0, w + 1)
    return (1.0 - frac) * np.take_along_axis(padded, i0, axis=2) + frac * np.take_along_axis(padded, i1, axis=2)


def preprocess(images: np.ndarray, size: int = 16, order: str = "deskew_resize", chunk: int = 4096) -> np.ndarray:
    """uint8 images [n, h, w] -> float64[n, size * size] in [0, 1] (C-contiguous).

    ``order``: ``deskew_resize`` (the paper: deskew at full size, then resize),
    ``resize_deskew`` (the reference code's order: resize, then deskew the
    small image) or ``resize`` (no deskewing).
    """
    if order not in PREPROCESS_ORDERS:
        raise UserError(f"preprocess: {order!r}: allowed: {', '.join(PREPROCESS_ORDERS)}")
    out = np.empty((len(images), size * size))
    for start in range(0, len(images), chunk):
        block = np.asarray(images[start:start + chunk], dtype=np.float64) / 255.0
        if order == "deskew_resize":
            block = resize(deskew(block), size)
        elif order == "resize_deskew":
            block = deskew(resize(block, size))
        else:
            block = resize(block, size)
        out[start:start + len(block)] = block.reshape(len(block), -1)
    return out
