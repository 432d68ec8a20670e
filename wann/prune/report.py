"""The run's outputs as text: the CSV (one row per method x density) and the printed table.

Counting conventions of the columns are those of :mod:`wann.prune.metrics`:
``compression`` and ``nonzero_weights`` count weights of every layer (biases
excluded); ``effective_connections`` counts surviving weights on some
input-to-output path; ``theoretical_speedup`` counts multiply-adds, not time.
Accuracies are fractions of the test set.
"""
from __future__ import annotations

import csv
import io
import math
from typing import Any, Sequence

COLUMNS = (
    "method", "criterion", "schedule", "scope", "control", "target_density", "target_compression",
    "density", "compression", "nonzero_weights", "effective_connections", "theoretical_speedup",
    "layer_densities", "test_accuracy", "shared_accuracy_mean", "shared_accuracy_best",
    "shared_accuracy_ensemble", "shared_signs", "collapsed",
)

TABLE = (  # (column, header, width, format)
    ("method", "method", 22, "s"),
    ("scope", "scope", 6, "s"),
    ("target_compression", "x", 5, "g"),
    ("density", "density", 8, ".4f"),
    ("nonzero_weights", "nonzero", 7, "d"),
    ("effective_connections", "eff.conn", 8, "d"),
    ("theoretical_speedup", "speedup", 7, ".1f"),
    ("test_accuracy", "acc", 6, ".4f"),
    ("shared_accuracy_mean", "sw.mean", 7, ".4f"),
    ("shared_accuracy_best", "sw.best", 7, ".4f"),
    ("shared_accuracy_ensemble", "sw.ens", 6, ".4f"),
    ("collapsed", "collapsed", 9, "s"),
)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "/".join(f"{v:.4g}" for v in value)
    return str(value)


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    """The CSV file's text: header, then one line per row (floats at full precision)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row[c]) for c in COLUMNS})
    return buffer.getvalue()


def _fmt(value: Any, spec: str, width: int) -> str:
    if isinstance(value, bool):
        text = "yes" if value else "-"
    elif isinstance(value, float) and math.isinf(value):
        text = "inf"
    elif spec == "s":
        text = str(value)
    else:
        text = format(value, spec)
    return text[:width].rjust(width) if spec != "s" else text[:width].ljust(width)


def table_header() -> str:
    """Header line of the printed table."""
    return " ".join(h.ljust(w) if f == "s" else h.rjust(w) for _, h, w, f in TABLE)


def table_line(row: dict[str, Any]) -> str:
    """One row of the printed table."""
    return " ".join(_fmt(row[c], f, w) for c, _, w, f in TABLE)


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The final table: header, rule, one line per row."""
    head = table_header()
    return "\n".join([head, "-" * len(head)] + [table_line(r) for r in rows])


def first_collapse(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Per method, the highest target density at which it collapsed (None if it never did)."""
    out: dict[str, float | None] = {}
    for row in rows:
        if row["method"] == "dense":
            continue
        out.setdefault(row["method"], None)
        if row["collapsed"]:
            best = out[row["method"]]
            out[row["method"]] = row["target_density"] if best is None else max(best, row["target_density"])
    return out
