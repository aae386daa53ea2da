"""The journal: append-only, gapless, chained, signed; every kind of tampering is named."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
from peewee import IntegrityError

from hal.printer.preview import interpret
from terminal import admin
from terminal.store.journal import read_entries
from tests.conftest import open_reader


@pytest.fixture
def journaled(terminal):
    """A terminal with a start entry, the shift's opening and three sales (seq 1..5)."""
    pos = terminal.pos
    pos.sign_in("1", "1357")
    for code, cash in (("8991002101111", 10000), ("GULA-1KG", 20000), ("TEH-BTL", 5500)):
        pos.scan(code)
        pos.pay_cash(cash)
    return terminal


def tamper(terminal, *statements):
    """Change the journal the way an attacker with the key would: raw SQL, triggers dropped."""
    con = open_reader(terminal)
    con.execute("DROP TRIGGER journal_no_update")
    con.execute("DROP TRIGGER journal_no_delete")
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()


def test_sales_are_journaled_with_a_perpetual_grand_total(journaled):
    entries = list(read_entries(journaled.pos.db))
    assert [(e["seq"], e["type"]) for e in entries] == [
        (1, "start"),
        (2, "shift_open"),
        (3, "sale"),
        (4, "sale"),
        (5, "sale"),
    ]
    assert [e["grand_total"] for e in entries] == [0, 0, 5500, 23000, 28500]
    sale = entries[2]["payload"]
    assert sale["number"] == 1 and sale["total"] == 5500
    assert sale["lines"] == [
        {
            "sku": "TEH-BTL",
            "quantity": "1",
            "unit_price": 5500,
            "amount": 5500,
            "tax_class": "PPN",
            "discount": 0,
            "net": 4955,  # 5.500 less the PPN 11 % inside it (545)
        }
    ]
    assert entries[2]["ts"] == "2026-11-23T03:00:00.000+00:00"
    assert journaled.pos.journal.verify().ok


def test_the_receipt_carries_the_journal_seq_and_short_hash(journaled):
    _name, data = journaled.pos.printer.jobs[-1]
    entry = list(read_entries(journaled.pos.db))[-1]
    line = next(ln for ln in interpret(data).lines if ln.startswith("Jurnal"))
    assert line.split() == ["Jurnal", "5", entry["hash"][:8].upper()]


def test_update_and_delete_are_refused(journaled):
    db = journaled.pos.db
    with pytest.raises(IntegrityError, match="append-only"):
        db.execute_sql("UPDATE journal SET grand_total = 0 WHERE seq = 2")
    with pytest.raises(IntegrityError, match="append-only"):
        db.execute_sql("DELETE FROM journal WHERE seq = 4")


@pytest.mark.parametrize(
    ("statements", "seq", "reason"),
    [
        # one byte of a payload: 5500 -> 5501
        (
            [
                "UPDATE journal SET payload = replace(payload, '\"total\":5500', '\"total\":5501')"
                " WHERE seq = 3"
            ],
            3,
            "content changed",
        ),
        # the same JSON, spaced differently: the stored text is what was signed
        (
            [
                "UPDATE journal SET payload = replace(payload, '\"total\":5500', '\"total\": 5500')"
                " WHERE seq = 3"
            ],
            3,
            "content changed",
        ),
        # the grand total, outside the payload, is covered too
        (["UPDATE journal SET grand_total = 1 WHERE seq = 4"], 4, "content changed"),
        # a deleted entry
        (["DELETE FROM journal WHERE seq = 4"], 4, "missing"),
        # two entries swapped: each takes the other's seq
        (
            [
                "UPDATE journal SET seq = -4 WHERE seq = 4",
                "UPDATE journal SET seq = 4 WHERE seq = 5",
                "UPDATE journal SET seq = 5 WHERE seq = -4",
            ],
            4,
            "does not follow",
        ),
        # a signature copied from another entry
        (
            [
                "UPDATE journal SET signature = (SELECT signature FROM journal WHERE seq = 3)"
                " WHERE seq = 4"
            ],
            4,
            "bad signature",
        ),
        # an entry rebuilt elsewhere and chained on: its prev_hash no longer follows
        (
            [
                "UPDATE journal SET prev_hash = (SELECT hash FROM journal WHERE seq = 2)"
                " WHERE seq = 4"
            ],
            4,
            "does not follow",
        ),
    ],
    ids=[
        "payload-byte",
        "payload-spacing",
        "grand-total",
        "deleted",
        "reordered",
        "signature",
        "relinked",
    ],
)
@pytest.mark.parametrize("public_key_only", [False, True], ids=["own-key", "public-key"])
def test_tampering_is_detected_and_named(journaled, statements, seq, reason, public_key_only):
    """On the terminal signatures are checked by making them again with its key; as an
    auditor would, with the public key only. Both name the same entry."""
    tamper(journaled, *statements)
    verdict = journaled.pos.journal.verify(public_key_only=public_key_only)
    assert not verdict.ok
    assert verdict.first_bad_seq == seq
    assert reason in verdict.reason
    assert f"seq {seq}" in str(verdict)


def test_verify_command_exit_codes(journaled, settings, capsys):
    assert admin.journal_verify(settings) == 0
    assert "journal OK: 5 entries" in capsys.readouterr().out
    assert admin.journal_verify(settings, public_key_only=True) == 0
    assert "journal OK: 5 entries" in capsys.readouterr().out
    tamper(journaled, "DELETE FROM journal WHERE seq = 2")
    assert admin.journal_verify(settings) == 1
    assert "journal BROKEN at seq 2: missing" in capsys.readouterr().out
    assert admin.journal_verify(settings, public_key_only=True) == 1
    assert "journal BROKEN at seq 2: missing" in capsys.readouterr().out


def test_export_verifies_offline_with_only_cryptography(journaled, settings, tmp_path):
    out = tmp_path / "audit"
    assert admin.journal_export(settings, out) == 0
    verifier = out / "verify_journal.py"
    # the verifier needs nothing of this project: standard library and cryptography only
    tree = ast.parse(verifier.read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"cryptography", "__future__"}

    def run():
        # -I: isolated, and run from the export directory, away from the project
        return subprocess.run(
            [sys.executable, "-I", "verify_journal.py", "journal.jsonl", "journal-public-key.pem"],
            cwd=out,
            capture_output=True,
            text=True,
            timeout=60,
        )

    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "journal OK: 5 entries" in result.stdout
    lines = (out / "journal.jsonl").read_text().splitlines()
    lines[3] = lines[3].replace('"amount": 17500', '"amount": 17400')
    (out / "journal.jsonl").write_text("\n".join(lines) + "\n")
    result = run()
    assert result.returncode == 1
    assert "journal BROKEN at seq 4: content changed" in result.stdout
    lines[3], lines[4] = lines[4], lines[3].replace('"amount": 17400', '"amount": 17500')
    (out / "journal.jsonl").write_text("\n".join(lines) + "\n")  # two lines swapped
    result = run()
    assert result.returncode == 1
    assert "journal BROKEN at seq 4: missing (next entry is seq 5)" in result.stdout


def test_hashing_from_stored_text_equals_the_canonical_document(journaled):
    from terminal.store.journal_format import GENESIS, entry_hash  # noqa: PLC0415

    decoded = list(read_entries(journaled.pos.db))
    raw = list(read_entries(journaled.pos.db, decode=False))
    prev = GENESIS
    for a, b in zip(decoded, raw, strict=True):
        assert entry_hash(prev, a) == entry_hash(prev, b) == bytes.fromhex(a["hash"])
        prev = bytes.fromhex(a["hash"])


def test_a_payload_with_non_ascii_text_hashes_the_same_both_ways(terminal):
    from datetime import UTC, datetime  # noqa: PLC0415

    from terminal.store.journal_format import GENESIS, entry_hash  # noqa: PLC0415

    terminal.pos.journal.append(
        "config_change", {"name": "НӨАТ 10% 城市", "q": "1.5"}, datetime(2026, 1, 1, tzinfo=UTC)
    )
    decoded = list(read_entries(terminal.pos.db))
    raw = list(read_entries(terminal.pos.db, decode=False))
    prev = bytes.fromhex(decoded[-2]["hash"]) if len(decoded) > 1 else GENESIS
    assert entry_hash(prev, decoded[-1]) == entry_hash(prev, raw[-1])
    assert terminal.pos.journal.verify().ok


def test_only_the_next_seq_can_be_inserted(journaled):
    db = journaled.pos.db
    row = "'T01','k','{type}','2026-01-01T00:00:00.000+00:00',0,'{{}}','00','00','00',{epoch}"
    sale, later_sale = row.format(type="sale", epoch=1), row.format(type="sale", epoch=2)
    with pytest.raises(IntegrityError, match="next seq"):
        db.execute_sql(f"INSERT INTO journal VALUES (9, {sale})")  # a gap
    with pytest.raises(IntegrityError, match="next seq"):
        db.execute_sql(f"INSERT OR REPLACE INTO journal VALUES (2, {sale})")  # rewriting seq 2
    with pytest.raises(IntegrityError, match="next seq"):  # a new epoch only by its start
        db.execute_sql(f"INSERT INTO journal VALUES (9, {later_sale})")
    start_back = row.format(type="epoch_start", epoch=1)
    with pytest.raises(IntegrityError, match="next seq"):  # never into the same epoch
        db.execute_sql(f"INSERT INTO journal VALUES (9, {start_back})")
    start_low = row.format(type="epoch_start", epoch=2)
    with pytest.raises(IntegrityError, match="next seq"):  # never below the last seq
        db.execute_sql(f"INSERT INTO journal VALUES (2, {start_low})")
    assert journaled.pos.journal.verify().ok


def test_the_offline_verifier_hashes_the_payload_it_shows(journaled, settings, tmp_path):
    import json  # noqa: PLC0415

    from terminal.store.journal_format import key_id as kid  # noqa: PLC0415
    from terminal.store.journal_format import load_public_key, verify_entries  # noqa: PLC0415

    out = tmp_path / "audit"
    admin.journal_export(settings, out)
    entries = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    original = json.dumps(entries[2]["payload"], sort_keys=True, separators=(",", ":"))
    entries[2]["payload_json"] = original  # smuggled next to an edited payload
    entries[2]["payload"]["total"] = 1
    key = load_public_key((out / "journal-public-key.pem").read_bytes())
    verdict = verify_entries(entries, {kid(key): key})
    assert not verdict.ok and verdict.first_bad_seq == 3


def test_the_offline_verifier_refuses_a_key_given_twice(tmp_path):
    """Python keeps the last of two equal keys, SQLite's json_extract the first: a line
    that says both could verify as one thing and be read as another."""
    from terminal.store import journal_format  # noqa: PLC0415

    lines = tmp_path / "journal.jsonl"
    lines.write_text('{"seq": 1, "payload": {"total": 99, "total": 5500}}\n')
    with pytest.raises(journal_format.JournalFileError, match=r"line 1: .*key given twice: total"):
        list(journal_format._read_jsonl(str(lines)))


def _verify_offline(out, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-I",
            "verify_journal.py",
            "journal.jsonl",
            "journal-public-key.pem",
            *list(extra),
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda lines: [*lines[:2], "{not json", *lines[3:]], "line 3: not a journal line"),
        (lambda lines: [*lines[:1], "[1, 2]", *lines[2:]], "line 2: not a journal entry"),
        (
            lambda lines: [lines[0], lines[1].replace('"hash": "', '"hash": "zz'), *lines[2:]],
            "line 2: 'hash' is not 64 lower-case hex digits",
        ),
        (
            lambda lines: [
                lines[0],
                re.sub(r'"prev_hash": "[0-9a-f]+", ', "", lines[1]),
                *lines[2:],
            ],
            "line 2: missing field 'prev_hash'",
        ),
        (
            lambda lines: [lines[0], lines[1].replace('"seq": 2', '"seq": "2"'), *lines[2:]],
            "line 2: 'seq' is not a whole number",
        ),
        (lambda lines: [], "no entries: an empty journal proves nothing"),
        (lambda lines: ["\ufffd\ufffd"], "line 1: not a journal line"),
    ],
)
def test_the_offline_verifier_names_every_bad_line_and_never_shows_a_traceback(
    journaled, settings, tmp_path, edit, expected
):
    out = tmp_path / "audit"
    admin.journal_export(settings, out)
    lines = (out / "journal.jsonl").read_text().splitlines()
    (out / "journal.jsonl").write_text("".join(line + "\n" for line in edit(lines)))
    result = _verify_offline(out)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_offline_verifier_refuses_bad_arguments_plainly(journaled, settings, tmp_path):
    out = tmp_path / "audit"
    admin.journal_export(settings, out)
    (out / "not-a-key.pem").write_text("hello")
    for args, expected in (
        (["--head", "the last one"], "not a journal head"),
        (["--head", "99:ABCDEF01"], "truncated after seq 5"),
        (["--head", "5:00000000"], "not the entry expected"),
    ):
        result = _verify_offline(out, *args)
        assert expected in result.stdout, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-I", "verify_journal.py", "journal.jsonl", "not-a-key.pem"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "not an Ed25519 public key" in result.stdout
    assert "Traceback" not in result.stderr
    head = journaled.pos.journal.verify().head
    result = _verify_offline(out, "--head", f"{head[1]}:{head[2][:8].upper()}")
    assert result.returncode == 0 and "journal OK: 5 entries" in result.stdout
    (out / "journal.jsonl").write_bytes(b"\xff\xfe\x00garbage from a broken stick\n")
    result = _verify_offline(out)
    assert result.returncode == 1 and "not a text file" in result.stdout
    assert "Traceback" not in result.stderr
