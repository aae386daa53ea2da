"""Online orders' payments (finance): the bank statement uploaded at the payment
deadline, the automatic matches reviewed, confirmed or made by hand.

Each bank account is saved here with its statement format (a bank's export, MT940,
CAMT.053, or a CSV read by the column mapping saved with it); an upload names the account,
and its format and mapping read the file. Nothing is applied by an upload: its lines are
kept (each once: a statement uploaded
twice, or two that overlap, never pays twice), the proposals are shown, and only the
matches a person ticks are confirmed. A broken row stops the upload with every broken
row named by its line. The customers' names are shown here (finance and admins only);
they are opened from the sealed bookings for this page and not kept elsewhere.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet.config import OrdersSettings
from fleet.console import accounts
from fleet.console.access import NotFound
from fleet.console.web import Context, action, page
from fleet.models import BankAccount, Booking
from fleet.orders import desk as orders
from fleet.orders.bank_formats import FORMATS, read_statement
from fleet.orders.matching import AMBIGUOUS, BY_NAME, MATCHED, UNMATCHED
from fleet.orders.reconcile import proposals, upload
from fleet.orders.statements import (
    LAYOUTS,
    ColumnMapping,
    StatementError,
    mapping_from_json,
    mapping_to_json,
)
from terminal.core.online_orders import OrderError
from terminal.core.sealing import Sealer

MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class PaymentsDesk:
    """What the page needs beyond the database: the key that opens the customers'
    names and the shop's online-order settings."""

    sealer: Sealer
    settings: OrdersSettings

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)


def _desk(ctx: Context) -> PaymentsDesk:
    desk = ctx.console.payments
    if desk is None:  # online orders are off in this fleet's settings: no such page
        raise NotFound("payments")
    return desk


def _open(ctx: Context, desk: PaymentsDesk) -> list[dict]:
    return [
        {
            "order": b.order_no,
            "desk": b.desk,
            "sku": b.sku,
            "due": b.due,
            "deadline": b.deadline.replace(tzinfo=UTC).astimezone(desk.timezone),
            "name": orders.customer_of(desk.sealer, b).name,
        }
        for b in orders.open_bookings(ctx.db)
    ]


# the mapping's fields on the account form: (form field, ColumnMapping field)
MAPPING_FIELDS = (
    ("map_date", "date"),
    ("map_description", "description"),
    ("map_amount", "amount"),
    ("map_credit", "credit"),
    ("map_debit", "debit"),
    ("map_date_format", "date_format"),
    ("map_decimal_sep", "decimal_sep"),
    ("map_thousands_sep", "thousands_sep"),
    ("map_delimiter", "delimiter"),
    ("map_header_row", "header_row"),
    ("map_marker_credit", "marker_credit"),
    ("map_marker_debit", "marker_debit"),
)
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "|": "|"}


def _bank_accounts(ctx: Context) -> list[BankAccount]:
    return list(BankAccount.select().order_by(BankAccount.name).bind(ctx.db))


def _mapping_form(mapping: ColumnMapping) -> dict[str, str]:
    values = {f: str(getattr(mapping, attr)) for f, attr in MAPPING_FIELDS}
    shown = {v: k for k, v in DELIMITERS.items()}
    values["map_delimiter"] = shown.get(mapping.delimiter, mapping.delimiter)
    return values


def _account_form(ctx: Context) -> dict[str, str]:
    """The account form's values: an account to edit (``?account=``), a preset to start
    a csv account from (``?preset=``), or empty."""
    name = ctx.request.query_params.get("account", "")
    preset = ctx.request.query_params.get("preset", "")
    if preset in LAYOUTS:
        return {"format": "csv", **_mapping_form(LAYOUTS[preset])}
    row = BankAccount.select().where(BankAccount.name == name).bind(ctx.db).first()
    if row is None:
        return {}
    values = {"name": row.name, "bank": row.bank, "number": row.number, "format": row.format}
    if row.mapping:  # a broken saved mapping shows empty, to be saved anew
        with contextlib.suppress(ValueError):
            values.update(_mapping_form(mapping_from_json(row.mapping)))
    return values


def _render(
    ctx: Context,
    desk: PaymentsDesk,
    status: int = 200,
    *,
    problems: list[str] | None = None,
    form: Any = None,
    account_form: Any = None,
    confirmed: str = "",
) -> Response:
    return ctx.render(
        "payments.html",
        status,
        bookings=_open(ctx, desk),
        bank_accounts=_bank_accounts(ctx),
        formats=FORMATS,
        presets=list(LAYOUTS),
        delimiters=list(DELIMITERS),
        confirmed=confirmed,
        saved=ctx.request.query_params.get("saved", ""),
        problems=problems or [],
        form=form or {},
        account_form=account_form or {},
    )


@page("payments")
def payments(ctx: Context) -> Response:
    desk = _desk(ctx)
    return _render(
        ctx,
        desk,
        account_form=_account_form(ctx),
        confirmed=ctx.request.query_params.get("confirmed", ""),
    )


def _mapping(form, gettext) -> tuple[ColumnMapping | None, list[str]]:
    """The column mapping typed on the account form, or what is wrong with it."""
    values: dict[str, Any] = {}
    for field, attr in MAPPING_FIELDS:
        text = str(form.get(field, "")).strip() if attr not in SEPARATORS else form.get(field)
        if text not in ("", None):
            values[attr] = str(text)[:60]
    if "delimiter" in values:
        values["delimiter"] = DELIMITERS.get(values["delimiter"], values["delimiter"])
    problems = []
    if not values.get("date"):
        problems.append(gettext("Name the column that holds the date"))
    if not values.get("description"):
        problems.append(gettext("Name the column that holds the description"))
    try:
        values["header_row"] = int(values.get("header_row", 1))
        if not 1 <= values["header_row"] <= 100:
            raise ValueError
    except ValueError:
        problems.append(gettext("The header row is a line number from 1 to 100"))
    if len(values.get("delimiter", ",")) != 1:
        problems.append(gettext("The delimiter is one character"))
    if problems:
        return None, problems
    try:
        mapping = ColumnMapping(**values)
    except (TypeError, ValueError):
        return None, [gettext("Name either one amount column or a credit and a debit column")]
    return mapping, []


SEPARATORS = frozenset({"decimal_sep", "thousands_sep"})  # a space is a thousands separator


@action("payments")
def save_account(ctx: Context, form) -> Response:
    """A bank account added or changed: its name, bank, number and statement format;
    for ``csv`` its column mapping (audited with what changed)."""
    desk = _desk(ctx)
    gettext = ctx.translations().gettext
    name = str(form.get("name", "")).strip()[:40]
    fmt = str(form.get("format", ""))
    problems: list[str] = []
    if not name:
        problems.append(gettext("Name the bank account"))
    if fmt not in FORMATS:
        problems.append(gettext("Choose the statement's format"))
    mapping = None
    if fmt == "csv":
        mapping, wrong = _mapping(form, gettext)
        problems += wrong
    if problems:
        return _render(ctx, desk, 422, problems=problems, account_form=form)
    values = {
        "bank": str(form.get("bank", "")).strip()[:40],
        "number": str(form.get("number", "")).strip()[:40],
        "format": fmt,
        "mapping": mapping_to_json(mapping) if mapping else "",
        "updated_at": ctx.now(),
        "updated_by": ctx.viewer.name,
    }
    with ctx.db.atomic():
        before = BankAccount.select().where(BankAccount.name == name).bind(ctx.db).first()
        if before is None:
            BankAccount.insert(name=name, **values).execute(ctx.db)
            detail = f"{name}: " + ", ".join(
                f"{k} {values[k]}" for k in ("bank", "number", "format", "mapping") if values[k]
            )
        else:
            BankAccount.update(**values).where(BankAccount.name == name).execute(ctx.db)
            changed = [
                f"{k} {getattr(before, k)!s} -> {values[k]}"
                for k in ("bank", "number", "format", "mapping")
                if str(getattr(before, k)) != values[k]
            ]
            detail = f"{name}: " + (", ".join(changed) or "unchanged")
        accounts.audit(
            ctx.db,
            ctx.viewer.name,
            "bank account added" if before is None else "bank account changed",
            detail,
            ctx.address,
            ctx.now(),
        )
    return RedirectResponse(f"/payments?saved={quote(name)}", status_code=303)


@action("payments")
def upload_statement(ctx: Context, form) -> Response:
    desk = _desk(ctx)
    gettext = ctx.translations().gettext
    name = str(form.get("account", "")).strip()[:40]
    statement = form.get("statement")
    problems: list[str] = []
    data = b""
    account = BankAccount.select().where(BankAccount.name == name).bind(ctx.db).first()
    if account is None:
        problems.append(gettext("Choose the bank account the statement is of"))
    if statement is None or not hasattr(statement, "file"):
        problems.append(gettext("Choose the statement's file"))
    else:
        data = statement.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            problems.append(gettext("The file is larger than 10 MB"))
    lines = []
    if not problems:
        filename = str(getattr(statement, "filename", "") or "")[:100]
        try:
            mapping = mapping_from_json(account.mapping) if account.mapping else None
            lines = read_statement(data, account.format, mapping, filename)
        except StatementError as exc:
            problems = [str(e) for e in exc.errors]
        except ValueError as exc:  # a saved mapping that no longer reads
            problems = [str(exc)]
    if problems:
        return _render(ctx, desk, 422, problems=problems, form=form)
    new = upload(ctx.db, account.name, lines, ctx.now())
    found = proposals(ctx.db, desk.sealer, lines, desk.timezone)
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "statement uploaded",
        f"{account.name} ({account.format}): {len(lines)} lines, {new} new",
        ctx.address,
        ctx.now(),
    )
    return ctx.render(
        "payments_review.html",
        account=account.name,
        proposals=found,
        new=new,
        bookings=_open(ctx, desk),
        kinds={
            "matched": MATCHED,
            "by_name": BY_NAME,
            "ambiguous": AMBIGUOUS,
            "unmatched": UNMATCHED,
        },
    )


@action("payments")
def confirm(ctx: Context, form) -> Response:
    """The matches ticked (``match``: ``ORDER|LINE``) and those chosen by hand for a line
    (``line-KEY``: ``ORDER``), each confirmed on its own; a refused one is said."""
    _desk(ctx)
    # ticked proposals are of the exact amount; a line matched by hand may bring another
    # amount, which the person chose knowing it (both amounts go to the audit trail)
    chosen = [(*str(v).partition("|")[::2], False) for v in form.getlist("match")]
    by_hand = [(k, v) for k, v in form.multi_items() if k.startswith("line-") and v]
    chosen += [(str(value), key.removeprefix("line-"), True) for key, value in by_hand]
    done, refused = 0, []
    for order, line, other_amount in chosen:
        try:
            orders.confirm_payment(
                ctx.db, order, line, ctx.now(), ctx.viewer.name, other_amount=other_amount
            )
        except OrderError as exc:
            refused.append(exc.translated(ctx.translations().gettext))
            continue
        done += 1
        booking = Booking.select().where(Booking.order_no == order).bind(ctx.db).get()
        accounts.audit(
            ctx.db,
            ctx.viewer.name,
            "payment confirmed",
            f"{order} (due {booking.due}) by line {line} ({booking.paid_amount})"
            + (" matched by hand" if other_amount else ""),
            ctx.address,
            ctx.now(),
        )
    if refused:
        return _render(ctx, _desk(ctx), 409, problems=refused, confirmed=str(done))
    return RedirectResponse(f"/payments?confirmed={done}", status_code=303)


ROUTES = [
    Route("/payments", payments),
    Route("/payments/upload", upload_statement, methods=["POST"]),
    Route("/payments/account", save_account, methods=["POST"]),
    Route("/payments/confirm", confirm, methods=["POST"]),
]
