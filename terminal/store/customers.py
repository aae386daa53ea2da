"""Customers and card authorisations, stored sealed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import Database

from terminal.core.cards import check_masked_pan
from terminal.core.customers import check_name, normalise_phone
from terminal.store.models import CardAuthRow, CustomerRow, TenderRow
from terminal.store.sealing import Sealer

TABLE = CustomerRow._meta.table_name
CARD_TABLE = CardAuthRow._meta.table_name


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    phone: str | None
    address: str | None
    member_code: str | None = None
    points: int = 0
    lifetime_points: int = 0
    deleted: bool = False


def add_customer(
    db: Database,
    sealer: Sealer,
    name: str,
    phone: str | None = None,
    address: str | None = None,
    at: datetime | None = None,
    customer_id: str | None = None,
    member_code: str | None = None,
) -> Customer:
    """Add a customer; ``customer_id`` only when moving one from another terminal."""
    customer_id = customer_id or secrets.token_hex(8)
    name = check_name(name)
    digits = normalise_phone(phone) if phone else None

    def seal(column: str, value: str | None) -> bytes | None:
        return sealer.seal(TABLE, column, customer_id, value) if value is not None else None

    CustomerRow.insert(
        id=customer_id,
        name=seal("name", name),
        phone=seal("phone", digits),
        address=seal("address", address),
        phone_index=sealer.blind_index("phone", digits) if digits else None,
        created_at=(at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None),
        member_code=member_code or None,
    ).execute(db)
    return Customer(customer_id, name, digits, address, member_code or None)


def get_customer(db: Database, sealer: Sealer, customer_id: str) -> Customer:
    row = CustomerRow.select().where(CustomerRow.id == customer_id).get(db)

    def unseal(column: str) -> str | None:
        value = getattr(row, column)
        return sealer.open(TABLE, column, row.id, bytes(value)) if value is not None else None

    return Customer(
        row.id,
        unseal("name"),
        unseal("phone"),
        unseal("address"),
        row.member_code,
        row.points,
        row.lifetime_points,
        row.deleted,
    )


def _live():
    return CustomerRow.select(CustomerRow.id).where(CustomerRow.deleted == False)  # noqa: E712


def find_by_phone(db: Database, sealer: Sealer, phone: str) -> list[Customer]:
    index = sealer.blind_index("phone", normalise_phone(phone))
    rows = _live().where(CustomerRow.phone_index == index).bind(db)
    return [get_customer(db, sealer, row.id) for row in rows]


def find_by_member_code(db: Database, sealer: Sealer, code: str) -> Customer | None:
    row = _live().where(CustomerRow.member_code == code.strip().upper()).first(db)
    return get_customer(db, sealer, row.id) if row else None


def find_by_name(db: Database, sealer: Sealer, text: str, limit: int = 20) -> list[Customer]:
    """Names are sealed, so each is opened and compared here (a shop's customers number
    in the thousands: milliseconds)."""
    wanted = text.strip().casefold()
    found = []
    for row in _live().order_by(CustomerRow.created_at).bind(db):
        customer = get_customer(db, sealer, row.id)
        if wanted and wanted in customer.name.casefold():
            found.append(customer)
            if len(found) >= limit:
                break
    return found


def update_customer(
    db: Database,
    sealer: Sealer,
    customer_id: str,
    name: str,
    phone: str | None,
    address: str | None,
) -> Customer:
    name = check_name(name)
    digits = normalise_phone(phone) if phone else None

    def seal(column: str, value: str | None) -> bytes | None:
        return sealer.seal(TABLE, column, customer_id, value) if value is not None else None

    CustomerRow.update(
        name=seal("name", name),
        phone=seal("phone", digits),
        address=seal("address", address),
        phone_index=sealer.blind_index("phone", digits) if digits else None,
    ).where(CustomerRow.id == customer_id).execute(db)
    return get_customer(db, sealer, customer_id)


def delete_customer(db: Database, sealer: Sealer, customer_id: str) -> None:
    """Forget the person: personal data is overwritten; the row stays so old sales that
    name its id still resolve (to no one)."""
    CustomerRow.update(
        name=sealer.seal(TABLE, "name", customer_id, "-"),
        phone=None,
        address=None,
        phone_index=None,
        member_code=None,
        deleted=True,
    ).where(CustomerRow.id == customer_id).execute(db)


@dataclass(frozen=True)
class CardAuth:
    masked_pan: str
    auth_code: str
    trace_number: str
    card_terminal_id: str
    slip: tuple[str, ...] = ()  # the card terminal's receipt lines


def record_card_auth(db: Database, sealer: Sealer, tender_id: int, auth: CardAuth) -> None:
    """Keep a card payment's authorisation, sealed; a PAN that is not masked is refused."""
    pan = check_masked_pan(auth.masked_pan)
    CardAuthRow.insert(
        tender=tender_id,
        masked_pan=sealer.seal(CARD_TABLE, "masked_pan", tender_id, pan),
        auth_code=sealer.seal(CARD_TABLE, "auth_code", tender_id, auth.auth_code),
        trace_number=sealer.seal(CARD_TABLE, "trace_number", tender_id, auth.trace_number),
        card_terminal_id=auth.card_terminal_id,
        slip=sealer.seal(CARD_TABLE, "slip", tender_id, "\n".join(auth.slip))
        if auth.slip
        else None,
    ).execute(db)


def sale_card_pans(db: Database, sealer: Sealer, sale_id: int) -> list[str]:
    """The masked PANs of the cards that paid a sale (unsealed; never the full number)."""
    rows = (
        CardAuthRow.select(CardAuthRow.tender, CardAuthRow.masked_pan)
        .join(TenderRow)
        .where(TenderRow.sale == sale_id)
        .bind(db)
    )
    return [
        sealer.open(CARD_TABLE, "masked_pan", row.tender_id, bytes(row.masked_pan)) for row in rows
    ]


def card_auth(db: Database, sealer: Sealer, tender_id: int) -> CardAuth:
    row = CardAuthRow.select().where(CardAuthRow.tender == tender_id).get(db)
    return CardAuth(
        sealer.open(CARD_TABLE, "masked_pan", tender_id, bytes(row.masked_pan)),
        sealer.open(CARD_TABLE, "auth_code", tender_id, bytes(row.auth_code)),
        sealer.open(CARD_TABLE, "trace_number", tender_id, bytes(row.trace_number)),
        row.card_terminal_id,
        tuple(sealer.open(CARD_TABLE, "slip", tender_id, bytes(row.slip)).split("\n"))
        if row.slip
        else (),
    )
