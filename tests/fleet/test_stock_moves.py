"""Deliveries and transfers in the console (issue 19): a supplier's delivery note uploaded
as CSV (semicolons, Indonesian column names, a barcode and a SKU, decimal commas) puts
the goods into the store and their cost into the average; the same file again is
refused; a broken note is refused with every line named and nothing moves; goods moved
between two stores leave one and enter the other at the cost they had; more than the
books hold is refused; a manager may look, not move."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fleet.config import ConsoleSettings
from fleet.console import accounts, sales_now
from fleet.console.app import create_app
from fleet.db import connect, create_tables
from fleet.inventory import cost_of, ledger_sums, on_hand
from fleet.models import StockDocument, StockMovement
from fleet.orders import desk as orders
from fleet.registry import register_terminal
from tests.fleet.console_client import csrf_of
from tests.fleet.console_client import signed_in as console_signed_in

PASSWORD = "a long pass phrase"
NOW = datetime(2026, 11, 23, 9, 0)
NORTH, SOUTH = "Toko Utara", "Toko Selatan"
NOTE = (
    "\ufeffkode;jumlah;harga_beli\n"
    "8991002101111;24;4.100\n"  # a barcode the price list knows: TEH-BTL
    "GULA-1KG;2,5;14.000\n"  # a SKU, a weighed quantity with a decimal comma
)


@pytest.fixture
def console(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    for tid, store in (("T01", NORTH), ("T02", SOUTH)):
        key = Ed25519PrivateKey.generate().public_key()
        pem = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        register_terminal(db, tid, store=store, group="g", public_key_pem=pem)
    accounts.add_account(db, "oki", "owner", PASSWORD, NOW, cost=accounts.FAST_TEST_COST)
    accounts.add_account(
        db, "ani", "manager", PASSWORD, NOW, stores=[NORTH], cost=accounts.FAST_TEST_COST
    )
    sales_now._catalogue_cache[str(db.database)] = (
        0,
        (
            {"TEH-BTL": "Teh Botol Sosro 450 ml", "GULA-1KG": "Gula Pasir Gulaku 1 kg"},
            {"8991002101111": "TEH-BTL"},
            {"TEH-BTL": "drinks", "GULA-1KG": "groceries"},
        ),
    )  # the signed catalogue, as its newest document (id 0: none signed in this database)
    app = create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)
    return db, app


def signed_in(app, name):
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False)


def upload(client, token, text: str, store=NORTH, name="surat-jalan.csv"):
    return client.post(
        "/stock/moves/delivery",
        data={"csrf": token, "store": store, "supplier": "PT Sinar Sosro"},
        files={"note_file": (name, text.encode("utf-8"), "text/csv")},
    )


def test_a_delivery_note_goes_in_once_and_a_transfer_moves_goods_at_their_cost(console):
    db, app = console
    owner = signed_in(app, "oki")
    token = csrf_of(owner.get("/stock/moves").text)
    assert upload(owner, token, NOTE).status_code == 303
    held = on_hand(db, NORTH)
    assert (held["TEH-BTL"].quantity, held["GULA-1KG"].quantity) == (24_000, 2_500)
    assert (cost_of(db, NORTH, "TEH-BTL"), cost_of(db, NORTH, "GULA-1KG")) == (4_100, 14_000)
    again = upload(owner, token, NOTE, name="the-same-again.csv")
    assert again.status_code == 409 and "received already: D1" in again.text
    assert on_hand(db, NORTH)["TEH-BTL"].quantity == 24_000  # not twice

    moved = owner.post(
        "/stock/moves/transfer",
        data={
            "csrf": token,
            "source": NORTH,
            "target": SOUTH,
            "lines": "TEH-BTL 10\n\n8991002101111 2",
        },
    )
    assert moved.status_code == 303
    assert on_hand(db, NORTH)["TEH-BTL"].quantity == 12_000
    assert on_hand(db, SOUTH)["TEH-BTL"].quantity == 12_000
    assert cost_of(db, SOUTH, "TEH-BTL") == 4_100  # the cost it had at the north store
    kinds = sorted(
        (m.store, m.quantity, m.reason)
        for m in StockMovement.select().where(StockMovement.kind == "transfer").bind(db)
    )
    assert kinds == [
        (SOUTH, 2_000, f"from {NORTH}"),
        (SOUTH, 10_000, f"from {NORTH}"),
        (NORTH, -10_000, f"to {SOUTH}"),
        (NORTH, -2_000, f"to {SOUTH}"),
    ]
    too_much = owner.post(
        "/stock/moves/transfer",
        data={"csrf": token, "source": NORTH, "target": SOUTH, "lines": "GULA-1KG 3"},
    )
    assert too_much.status_code == 409 and "GULA-1KG: 3 asked, 2.5 held" in too_much.text
    # the online flow's warehouse is a location of the ledger too: its stock is listed,
    # and its goods move on the Warehouse page only (its units' states are kept there)
    orders.receive(db, "TEH-BTL", "Gudang Pusat", 5, NOW, "wh.budi")
    assert '<option value="Gudang Pusat"' in owner.get("/stock").text
    assert on_hand(db, "Gudang Pusat")["TEH-BTL"].quantity == 5_000
    from_warehouse = owner.post(
        "/stock/moves/transfer",
        data={"csrf": token, "source": "Gudang Pusat", "target": SOUTH, "lines": "TEH-BTL 5"},
    )
    assert from_warehouse.status_code == 409 and "move on the Warehouse page" in from_warehouse.text
    manager = signed_in(app, "ani")  # Toko Utara's: not the warehouse
    assert "Gudang Pusat" not in manager.get("/stock").text
    assert manager.get("/stock", params={"store": "Gudang Pusat"}).status_code == 404
    # a product on two lines is one transfer's: together more than the books hold
    twice = owner.post(
        "/stock/moves/transfer",
        data={"csrf": token, "source": NORTH, "target": SOUTH, "lines": "GULA-1KG 2\nGULA-1KG 2"},
    )
    assert twice.status_code == 409 and "GULA-1KG: 4 asked, 2.5 held" in twice.text
    # a product twice on one note: the second line finds the first on the shelf
    again = "code;qty;cost\nGULA-1KG;10;100\nGULA-1KG;10;120\n"
    assert upload(owner, token, again, store=SOUTH).status_code == 303
    assert cost_of(db, SOUTH, "GULA-1KG") == 110  # (10 x 100 + 10 x 120) / 20, not 120
    page = owner.get("/stock/moves").text
    assert re.findall(r'data-document="(\w+)"', page) == ["D3", "X2", "D1"]
    for store in (NORTH, SOUTH, "Gudang Pusat"):
        assert on_hand(db, store) == ledger_sums(db, store)


def test_broken_notes_and_transfers_are_refused_whole_and_a_manager_only_looks(console):
    db, app = console
    owner = signed_in(app, "oki")
    token = csrf_of(owner.get("/stock/moves").text)
    broken = upload(owner, token, "code,qty,cost\nTEH-BTL,lots,4100\nNOPE,2,100\nGULA-1KG,1,-5\n")
    assert broken.status_code == 422
    assert "line 2, quantity" in broken.text and "line 4, unit_cost" in broken.text
    unknown = upload(owner, token, "code,qty,cost\nTEH-BTL,1,4100\nNOPE,2,100\n")
    assert unknown.status_code == 422 and "line 3: NOPE: no product has this code" in unknown.text
    for text, reason in (
        ("", "the file is empty"),
        ("sku,qty\nTEH-BTL,1\n", "no column for unit_cost"),
        ("code,qty,cost\n", "no line"),
    ):
        answer = upload(owner, token, text)
        assert answer.status_code == 422 and reason in answer.text, text
    latin = owner.post(
        "/stock/moves/delivery",
        data={"csrf": token, "store": NORTH},
        files={"note_file": ("x.csv", "code,qty,cost\nCAFÉ,1,1\n".encode("latin-1"), "text/csv")},
    )
    assert latin.status_code == 422 and "not UTF-8" in latin.text
    same = owner.post(
        "/stock/moves/transfer",
        data={"csrf": token, "source": NORTH, "target": NORTH, "lines": "TEH-BTL 1"},
    )
    assert same.status_code == 409 and "another location" in same.text
    typed = owner.post(
        "/stock/moves/transfer",
        data={"csrf": token, "source": NORTH, "target": SOUTH, "lines": "TEH-BTL\nXYZ 1"},
    )
    assert typed.status_code == 422 and "typed line 1" in typed.text
    assert StockMovement.select().bind(db).count() == 0  # nothing moved
    assert StockDocument.select().bind(db).count() == 0

    manager = signed_in(app, "ani")
    page = manager.get("/stock/moves").text
    assert "data-delivery" not in page
    assert upload(manager, csrf_of(page), NOTE).status_code == 403
    assert (
        owner.post(
            "/stock/moves/delivery",
            data={"csrf": token, "store": "Toko Lain"},
            files={"note_file": ("n.csv", NOTE.encode(), "text/csv")},
        ).status_code
        == 404
    )
