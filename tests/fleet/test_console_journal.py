"""The console's journal part: an auditor verifies a terminal's chain as the fleet holds it,
and exports it; the export verifies offline with the verifier it carries, and a changed
line does not."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime

from fleet.config import ConsoleSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.models import Entry
from tests.fleet.console_client import signed_in
from tests.fleet.test_central import ingest_days

PASSWORD = "a long pass phrase"


def app_with(fleet_db, *people: tuple[str, str, list[str] | None]):
    now = datetime.now(UTC).replace(tzinfo=None)
    for name, role, stores in people:
        accounts.add_account(
            fleet_db, name, role, PASSWORD, now, stores=stores, cost=accounts.FAST_TEST_COST
        )
    return create_app(fleet_db, ConsoleSettings(secure_cookies=False), cost=accounts.FAST_TEST_COST)


def test_an_auditor_verifies_and_exports_a_chain_that_verifies_offline(
    fleet_db, ingest, shop_days, tmp_path
):
    ingest_days(fleet_db, ingest, shop_days, 100)
    tid = shop_days.terminal_id
    app = app_with(fleet_db, ("rina", "auditor", None), ("made", "manager", ["Elsewhere"]))
    auditor = signed_in(app, "rina", PASSWORD)
    listing = auditor.get("/journal")
    assert listing.status_code == 200 and f'data-terminal="{tid}"' in listing.text
    checked = auditor.get(f"/journal/{tid}?verify=1")
    assert 'data-verdict="ok"' in checked.text
    assert f"{len(shop_days.entries)} entries, chain and signatures verified" in checked.text
    export = auditor.get(f"/journal/{tid}/export.zip")
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(export.content)).extractall(tmp_path)
    command = (tmp_path / "README.txt").read_text().split("    python ")[1].split()
    run = subprocess.run(
        [sys.executable, *command], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and "journal OK" in run.stdout, run.stdout + run.stderr
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    lines[3] = lines[3].replace('"grand_total": ', '"grand_total": 1', 1)  # one changed figure
    (tmp_path / "journal.jsonl").write_text("\n".join(lines) + "\n")
    run = subprocess.run(
        [sys.executable, *command], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1 and "seq 4" in run.stdout, run.stdout

    manager = signed_in(app, "made", PASSWORD)  # a store manager sees no journal
    assert manager.get(f"/journal/{tid}").status_code == 404
    assert manager.get(f"/journal/{tid}/export.zip").status_code == 404


def test_a_z_report_shown_beside_the_fleets_rebuild_equal_to_the_unit_or_where_not(
    fleet_db, ingest, shop_days
):
    ingest_days(fleet_db, ingest, shop_days, 100)
    tid = shop_days.terminal_id
    app = app_with(fleet_db, ("rina", "auditor", None))
    auditor = signed_in(app, "rina", PASSWORD)
    page = auditor.get(f"/reports/z/{tid}/1")
    assert page.status_code == 200 and 'data-z="equal"' in page.text
    assert auditor.get(f"/reports/z/{tid}/99").status_code == 404
    assert auditor.get("/reports/z/T99/1").status_code == 404
    # a sale of that day changed in the fleet's copy: the rebuild no longer equals it
    sale = (
        Entry.select()
        .where((Entry.terminal_id == tid) & (Entry.type == "sale"))
        .bind(fleet_db)
        .first()
    )
    changed = json.loads(sale.payload_json)
    changed["total"] += 1000
    Entry.update(payload_json=json.dumps(changed)).where(
        (Entry.terminal_id == tid) & (Entry.seq == sale.seq)
    ).execute(fleet_db)
    page = auditor.get(f"/reports/z/{tid}/1")
    assert 'data-z="differs"' in page.text and "data-differs" in page.text
