"""The guide's rule: the lottery number and the QR data are kept in no form other than
the printed receipt. After sales registered at once, registered later, for a company,
and a correction, neither appears in the database - every page of the file and of its
write-ahead log, decrypted, live rows and free pages alike -, the journal, the print
queue, the log (every logger, at DEBUG) or any other file the terminal wrote."""

from __future__ import annotations

import logging
from decimal import Decimal as D
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from terminal.core.approval import PAID_ORDERS
from tests.fiscal.conftest import COLA, EGGS, VODKA

PAGE, RESERVE, SALT = 4096, 80, 16  # SQLCipher 4: IV 16 + HMAC-SHA512 64 per page


def decrypt_page(key: bytes, page: bytes, number: int) -> bytes:
    """One SQLCipher 4 page, raw key: AES-256-CBC, the IV at the start of the reserve."""
    start = SALT if number == 1 else 0
    iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start : PAGE - RESERVE]) + decryptor.finalize()


def plaintext_pages(db_file: Path, key: bytes) -> bytes:
    """Every page of the database file and every frame of its WAL, decrypted."""
    out = []
    data = db_file.read_bytes()
    for i in range(0, len(data) - PAGE + 1, PAGE):
        out.append(decrypt_page(key, data[i : i + PAGE], i // PAGE + 1))
    wal = db_file.with_name(db_file.name + "-wal")
    if wal.exists():
        data = wal.read_bytes()
        for i in range(32, len(data) - 24 - PAGE + 1, 24 + PAGE):
            number = int.from_bytes(data[i : i + 4], "big")
            out.append(decrypt_page(key, data[i + 24 : i + 24 + PAGE], number))
    return b"".join(out)


def test_the_lottery_and_the_qr_are_never_kept(shop, pos, posapi, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, peewee's SQL with its parameters too
    sell = lambda *codes: (  # noqa: E731
        [pos.scan(c) for c in codes],
        pos.pay_cash(pos.cash_payable()),
    )[1]
    first = sell(COLA, EGGS, VODKA)  # registered at once
    pos.set_buyer_tin("51234567890")
    sell(COLA)  # a company's (no lottery, a QR)
    posapi.stop()
    late = sell(EGGS, COLA)  # registered later, on a slip of its own
    posapi.start()
    assert pos.fiscal.send_pending() == 1
    sale = pos.refunds.find(first.committed.return_code)
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    pos.refunds.refund(sale, [(3, D(1), True)], "defective", approval)
    assert pos.fiscal.send_pending() == 1  # a correction: a QR of its own
    pos.refunds.reprint(pos.refunds.find(late.committed.return_code).id)

    answers = [r["answer"] for r in posapi.receipts.values()]
    secrets = [a["lottery"] for a in answers if a["lottery"]] + [a["qrData"] for a in answers]
    assert len(answers) == 4 and len(secrets) == 6
    printed = b"".join(data for _name, data in pos.printer.jobs)
    assert all(s.encode() in printed for s in secrets)  # on paper: yes

    db_file = shop.pos.settings.database_path
    pages = plaintext_pages(db_file, shop.keys.key("database"))
    # the decryption works: what may be kept is found (bill ids, product names)
    assert all(a["id"].encode() in pages for a in answers)
    assert "Өндөг 10 ширхэг".encode() in pages
    journal = "\n".join(
        row[0] for row in pos.db.execute_sql("SELECT payload FROM journal").fetchall()
    )
    assert answers[0]["id"] in journal  # the registration is journaled, by its bill id
    queue = b"".join(bytes(r[0]) for r in pos.db.execute_sql("SELECT data FROM print_job"))
    paper = pos.printer.out_dir.resolve()
    files = [
        p.read_bytes()
        for p in Path(pos.settings.data_dir).rglob("*")
        if p.is_file() and paper not in p.resolve().parents
    ]
    assert files  # the keys, the database...
    for secret in secrets:
        encoded = secret.encode()
        assert encoded not in pages
        assert secret not in journal
        assert encoded not in queue
        assert secret not in caplog.text
        assert not any(encoded in data for data in files)
