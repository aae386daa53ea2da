"""Deliveries and transfers in the console (issue 19; :mod:`fleet.stock_documents`): an
owner or a fleet admin uploads a supplier's delivery note as CSV for a store (the goods
in, their cost into the averages), or moves goods from one location to another (typed
as "code quantity" lines, or a CSV). Everything is checked whole first and refused with
every problem named; nothing moves then. Managers look."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet import stock_documents as docs
from fleet.central import store_currencies
from fleet.console import accounts
from fleet.console.access import NotFound
from fleet.console.pages.stock import stock_locations
from fleet.console.sales_now import product_codes, product_names
from fleet.console.web import Context, action, page
from fleet.inventory import on_hand
from terminal.core.inventory import quantity_text
from terminal.core.money import CURRENCIES
from terminal.core.stock_lines_csv import StockLine, StockLinesError, parse_stock_lines

MAX_FILE = 2_000_000  # bytes: a delivery note of a few thousand lines


@page("stock")
def moves(ctx: Context) -> Response:
    return _page(ctx)


def _page(
    ctx: Context, status: int = 200, problems: list[str] | None = None, form=None
) -> Response:
    stores = stock_locations(ctx)
    return ctx.render(
        "stock_moves.html",
        status,
        stores=stores,
        documents=docs.documents(ctx.db, stores),
        problems=problems or [],
        form=form or {},
        may_move=ctx.viewer.may("stock"),
    )


def _store(ctx: Context, value: object) -> str:
    store = str(value or "")
    if store not in stock_locations(ctx):
        raise NotFound(store)
    return store


def _goods(
    ctx: Context, store: str, lines: list[StockLine], where: str = "line {n}"
) -> tuple[list[docs.Goods], list[str]]:
    """The lines' products (SKU or barcode, as the catalogue or the store's stock knows
    them); the codes no product has, by line."""
    names, codes = product_names(ctx.db), product_codes(ctx.db)
    held = on_hand(ctx.db, store)
    goods, unknown = [], []
    for line in lines:
        sku = line.code if line.code in names or line.code in held else codes.get(line.code)
        if sku is None:
            at = where.format(n=line.line - (where != "line {n}"))
            unknown.append(f"{at}: {line.code[:40]}: no product has this code")
            continue
        goods.append(docs.Goods(sku, line.quantity, line.unit_cost))
    return goods, unknown


def _currency(ctx: Context, store: str):
    return CURRENCIES.get(store_currencies(ctx.db, [store]).get(store, "IDR"), CURRENCIES["IDR"])


@action("stock")
def delivery(ctx: Context, form) -> Response:
    store = _store(ctx, form.get("store"))
    t = ctx.translations()
    upload = form.get("note_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(ctx, 422, [t.gettext("Choose the delivery note's CSV file")], form)
    data = upload.file.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        return _page(ctx, 422, [f"{upload.filename}: more than {MAX_FILE // 1000} kB"], form)
    try:
        lines = parse_stock_lines(
            data.decode("utf-8"), currency=_currency(ctx, store), with_cost=True
        )
    except UnicodeDecodeError:
        problem = t.gettext("{file}: not UTF-8 text (save it as CSV UTF-8)")
        return _page(ctx, 422, [problem.format(file=upload.filename)], form)
    except StockLinesError as exc:
        return _page(ctx, 422, [f"{upload.filename}: {e}" for e in exc.errors[:50]], form)
    goods, unknown = _goods(ctx, store, lines)
    if unknown:
        return _page(ctx, 422, unknown[:50], form)
    supplier = str(form.get("supplier", "")).strip()
    try:
        document = docs.receive_delivery(
            ctx.db,
            store,
            goods,
            supplier=supplier,
            file_digest=docs.digest(data),
            by=ctx.viewer.name,
            at=ctx.now(),
        )
    except docs.DocumentError as exc:
        return _page(ctx, 409, [str(exc)], form)
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "delivery received",
        f"D{document.id} {store}: {len(goods)} lines from {supplier or '-'} ({upload.filename})",
        ctx.address,
        ctx.now(),
    )
    return RedirectResponse(f"/stock/moves#D{document.id}", status_code=303)


def _typed_lines(text: str) -> str:
    """Lines typed as "code quantity" (or "code, quantity") as the CSV a transfer reads."""
    rows = ["code;quantity"]
    for typed in text.splitlines():  # a blank line kept: the lines keep their numbers
        parts = typed.replace(";", " ").replace("\t", " ").split()
        rows.append(";".join([parts[0], " ".join(parts[1:])]) if parts else ";")
    return "\n".join(rows) + "\n"


@action("stock")
def transfer(ctx: Context, form) -> Response:
    source = _store(ctx, form.get("source"))
    target = _store(ctx, form.get("target"))
    try:
        lines = parse_stock_lines(
            _typed_lines(str(form.get("lines", ""))[:100_000]),
            currency=_currency(ctx, source),
            with_cost=False,
        )
    except StockLinesError as exc:
        typed = ctx.translations().gettext("typed line {n}: {problem}")
        return _page(
            ctx, 422, [typed.format(n=e.line - 1, problem=e.message) for e in exc.errors[:50]], form
        )
    goods, unknown = _goods(ctx, source, lines, "typed line {n}")
    if unknown:
        return _page(ctx, 422, unknown[:50], form)
    note = str(form.get("note", "")).strip()
    try:
        document = docs.transfer(
            ctx.db, source, target, goods, note=note, by=ctx.viewer.name, at=ctx.now()
        )
    except docs.DocumentError as exc:
        return _page(ctx, 409, [str(exc)], form)
    moved = ", ".join(f"{g.sku} {quantity_text(g.quantity)}" for g in goods)
    accounts.audit(
        ctx.db,
        ctx.viewer.name,
        "stock transferred",
        f"X{document.id} {source} -> {target}: {moved}"[:500],
        ctx.address,
        ctx.now(),
    )
    return RedirectResponse(f"/stock/moves#X{document.id}", status_code=303)


ROUTES = [
    Route("/stock/moves", moves),
    Route("/stock/moves/delivery", delivery, methods=["POST"]),
    Route("/stock/moves/transfer", transfer, methods=["POST"]),
]
