"""The study's search-progress table: window averages of log.csv against the reference's sample run."""
import csv

import numpy as np

from wann.engine.runfolder import LOG_COLUMNS
from wann.tools.study import progress_table, search_progress


def _write_log(path, best_means, median_conns):
    with open(path / "log.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LOG_COLUMNS)
        writer.writeheader()
        for g, (b, c) in enumerate(zip(best_means, median_conns)):
            writer.writerow({k: 0 for k in LOG_COLUMNS} | {"generation": g, "best_mean": b, "median_connections": c})


def test_search_progress_averages_the_window_before_each_mark(tmp_path):
    best = np.arange(80, dtype=float)  # generation g has best mean g
    conns = 2.0 * np.arange(80)
    _write_log(tmp_path, best, conns)
    progress = search_progress(tmp_path, marks=(16, 64, 128), window=16)
    assert set(progress) == {16, 64}  # 128 is beyond the run
    assert progress[16] == (np.mean(np.arange(16)), 2 * np.mean(np.arange(16)))
    assert progress[64] == (np.mean(np.arange(48, 64)), 2 * np.mean(np.arange(48, 64)))


def test_progress_table_has_median_and_ratio_to_the_reference():
    progress = {0: {64: (400.0, 10.0), 256: (500.0, 50.0)},
                1: {64: (420.0, 14.0), 256: (560.0, 70.0)},
                2: {64: (460.0, 20.0), 256: (600.0, 60.0)}}
    table = progress_table(progress, {64: (435.0, 17.0), 256: (554.0, 62.0)}).splitlines()
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in table if line.startswith("| ")}
    assert rows["generation"] == ["64", "256"]
    assert rows["reference sample run (laptop settings: pop 64)"] == ["435 (17)", "554 (62)"]
    assert rows["seed 1"] == ["420 (14)", "560 (70)"]
    assert rows["median"] == ["420 (14)", "560 (60)"]
    assert rows["median / reference"] == [f"{420 / 435:.3f}", f"{560 / 554:.3f}"]
    assert "reference" not in progress_table(progress)
