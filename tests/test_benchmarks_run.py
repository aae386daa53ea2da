"""Each benchmark still runs (in its quick mode): a benchmark broken by a change would
otherwise be found only when someone measures. The figures themselves are not checked
here: speed is measured by running `make bench`, never asserted in tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("script", "prints"),
    [
        ("sale_commit.py", "ratio"),
        ("startup.py", "sale screen"),
        ("secure_store.py", "Journal verify"),
        ("zvt_roundtrip.py", "ratio"),
        ("receipt_render.py", "raster"),
        ("ui_latency.py", "sale line"),
        ("fleet_ingest.py", "ratio PostgreSQL / bare"),
        ("fleet_drain.py", "drain to the fleet"),
        ("fleet_presence.py", "COMMIT to fleet COMMIT"),
        ("fleet_rollout.py", "reported applied"),
        ("console_reports.py", "ratio rollups / plain"),
        ("statement_match.py", "ratio match / dict lookup"),
    ],
)
def test_benchmark_runs(script, prints):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script)],
        env=dict(os.environ, BENCH_QUICK="1"),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert prints in result.stdout
