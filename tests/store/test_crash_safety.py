"""kill -9 in the middle of sales, 40 times: nothing committed is lost, nothing is torn."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time

from terminal.store.db import open_database
from terminal.store.journal import Journal, read_entries
from terminal.store.keystore import KeyStore
from tests.conftest import ROOT

KILLS = 15
SEED = int(os.environ.get("POS_CRASH_SEED", "20261123"))


def start_child(data_dir):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_child", str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1,
    )


def read_reports(child, until, wanted):
    """Committed numbers the child reported before ``until``, stopping after ``wanted``."""
    reported = []
    while time.monotonic() < until and len(reported) < wanted:
        ready, _, _ = select.select([child.stdout], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            break
        line = child.stdout.readline()
        if not line:
            break
        reported.append(int(line))
    return reported


def test_sigkill_at_random_moments_loses_nothing_committed(tmp_path):
    rng = random.Random(SEED)
    data_dir = tmp_path / "var"
    committed: set[int] = set()
    for kill in range(KILLS):
        child = start_child(data_dir)
        # wait for a random number of sales (0-4), then a random 0-40 ms into the next one
        committed.update(read_reports(child, time.monotonic() + 30, rng.randint(0, 4)))
        time.sleep(rng.uniform(0, 0.04))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        committed.update(int(line) for line in child.stdout.read().split())  # sent before death
        child.stdout.close()

        keys = KeyStore.open_existing(data_dir / "keys")
        db = open_database(data_dir / "pos.db", keys.key("database"))
        try:
            assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok", kill
            verdict = Journal(db, "T01", keys.journal_private_key()).verify()
            assert verdict.ok, f"after kill {kill} (seed {SEED}): {verdict}"
            numbers = [r[0] for r in db.execute_sql("SELECT number FROM sale ORDER BY number")]
            assert numbers == list(range(1, len(numbers) + 1)), f"gap after kill {kill}"
            assert committed <= set(numbers), f"lost {committed - set(numbers)} (kill {kill})"
            journaled = [e["payload"]["number"] for e in read_entries(db) if e["type"] == "sale"]
            assert journaled == numbers  # every sale has its entry, no entry without its sale
        finally:
            db.close()
    assert len(committed) >= KILLS  # the children really were selling
