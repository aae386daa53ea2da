"""Stocktake at the fleet (issue 19; the rules are :mod:`terminal.core.stocktake`): a count
opened for a store, the counted lines the terminals journal (``stock_count``, ingested
into :class:`fleet.models.StockCountLine`), the review against the ledger at each
product's moment of counting, and the posting of the differences as ``stocktake``
movements (approved by the person who posts, audited by the console).

States: ``open`` (terminals count), ``closed`` (counting ended; reviewed), ``posted``
(the adjustments are in the ledger) or ``cancelled``. Counted lines that arrive after the
posting (a terminal that was offline) are kept and shown, never posted by themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import peewee
from peewee import fn

from fleet.db import lock_named, write_transaction
from fleet.inventory import record
from fleet.models import StockCountLine, StockLevel, StockMovement, Stocktake, Terminal
from terminal.core.inventory import milli
from terminal.core.stocktake import STOCKTAKE, Counted, Difference, job_text, review

FLEET_TERMINAL = "fleet:count"  # the ledger's "terminal" of the adjustments posted here


class CountError(ValueError):
    """A count that cannot be opened, closed or posted as asked (nothing changed)."""


def label(count_id: int) -> str:
    return f"C{count_id}"


def number(text: str) -> int | None:
    """A count's number from its label (``C12``); None for what is not one."""
    if len(text) < 2 or text[0] != "C" or not text[1:].isdigit() or len(text) > 10:
        return None
    return int(text[1:])


def open_count(
    db: peewee.Database, store: str, categories: list[str], by: str, at: datetime
) -> Stocktake:
    """Open a count for ``store`` (categories: some, or none for all products); refused
    while another count of the store is open or closed and not posted."""
    clean = sorted({c.strip() for c in categories if c.strip()})
    try:
        job_text("C1", clean)  # the categories a job can carry to the terminals
    except ValueError as exc:
        raise CountError(str(exc)) from None
    with write_transaction(db):
        lock_named(db, f"stock:{store}")
        busy = (
            Stocktake.select()
            .where((Stocktake.store == store) & Stocktake.state.in_(["open", "closed"]))
            .bind(db)
            .first()
        )
        if busy is not None:
            raise CountError(f"count {label(busy.id)} of {store} is not posted or cancelled yet")
        count_id = Stocktake.insert(
            store=store,
            categories=",".join(clean),
            state="open",
            opened_by=by,
            opened_at=at,
        ).execute(db)
    return _get(db, count_id)


def _get(db: peewee.Database, count_id: int) -> Stocktake:
    return Stocktake.select().where(Stocktake.id == count_id).bind(db).get()


def find(db: peewee.Database, count_id: int) -> Stocktake | None:
    return Stocktake.select().where(Stocktake.id == count_id).bind(db).first()


def counts_of(db: peewee.Database, stores: list[str]) -> list[Stocktake]:
    """The counts of these stores, the newest first."""
    return list(
        Stocktake.select()
        .where(Stocktake.store.in_(stores or [""]))
        .order_by(Stocktake.id.desc())
        .bind(db)
    )


def _step(db: peewee.Database, count: Stocktake, states: tuple[str, ...], **changes) -> None:
    """Change a count that is in one of ``states`` (read again under the count's lock: a
    cancel racing a post finds it posted and is refused)."""
    with write_transaction(db):
        lock_named(db, f"count:{count.id}")
        fresh = _get(db, count.id)
        if fresh.state not in states:
            raise CountError(f"count {label(count.id)} is {fresh.state}")
        Stocktake.update(**changes).where(Stocktake.id == count.id).execute(db)


def close(db: peewee.Database, count: Stocktake, at: datetime) -> None:
    _step(db, count, ("open",), state="closed", closed_at=at)


def cancel(db: peewee.Database, count: Stocktake, at: datetime) -> None:
    _step(db, count, ("open", "closed"), state="cancelled", closed_at=count.closed_at or at)


def not_heard(db: peewee.Database, count: Stocktake) -> list[str]:
    """The store's terminals whose sales may not all be here yet: entries they reported
    that the fleet does not hold, or not heard from since before the counting ended.
    Their sales during the count would be counted twice by a posting now (the shelf
    without them, the books with them later)."""
    ended = count.closed_at
    said = []
    for t in Terminal.select().where(Terminal.store == count.store).order_by(Terminal.id).bind(db):
        if t.reported_head > t.acked_seq:
            said.append(f"{t.id}: {t.reported_head - t.acked_seq} entries not received yet")
        elif ended is not None and (t.last_seen is None or t.last_seen < ended):
            seen = f"{t.last_seen:%Y-%m-%d %H:%M} UTC" if t.last_seen else "never"
            said.append(f"{t.id}: last heard from {seen}, before the counting ended")
    return said


@dataclass(frozen=True)
class Review:
    count: Stocktake
    rows: list[Difference]
    lines: int  # counted lines received
    terminals: list[str]  # that sent them
    late: int  # lines that arrived after the posting
    entries: list[tuple[str, int]] = field(default_factory=list)  # the lists counted in

    @property
    def differences(self) -> list[Difference]:
        return [r for r in self.rows if r.adjustment]


def build_review(db: peewee.Database, count: Stocktake, in_scope: set[str] | None = None) -> Review:
    """The count against the ledger: each counted product's lines added up, the stock
    the ledger held at its last count, the movements between its first and last count;
    then the products of the scope with stock that nobody counted (``in_scope``: the
    SKUs of the count's categories, None for every product with stock)."""
    lines = list(
        StockCountLine.select()
        .where((StockCountLine.count_id == count.id) & (StockCountLine.store == count.store))
        .bind(db)
    )
    posted = count.state == "posted"
    counted = [
        Counted(line.sku, line.quantity, line.ts) for line in lines if line.posted or not posted
    ]
    moments = {}
    for c in counted:
        first, last = moments.get(c.sku, (c.ts, c.ts))
        moments[c.sku] = (min(first, c.ts), max(last, c.ts))
    expected, during = _ledger_at(db, count)
    held = dict(
        StockLevel.select(StockLevel.sku, StockLevel.quantity)
        .where((StockLevel.store == count.store) & (StockLevel.quantity != 0))
        .tuples()
        .bind(db)
    )
    uncounted = {
        sku: int(q)
        for sku, q in held.items()
        if sku not in moments and (in_scope is None or sku in in_scope)
    }
    return Review(
        count,
        review(counted, expected, during, uncounted),
        len(lines),
        sorted({line.terminal_id for line in lines}),
        len(lines) - len(counted),
        sorted({(line.terminal_id, line.seq) for line in lines if line.posted or not posted}),
    )


def _ledger_at(db: peewee.Database, count: Stocktake) -> tuple[dict, dict]:
    """Per counted product: the ledger's sum up to its last count, and the movements
    between its first and last count (one query each, joined on the count's lines).
    A count's own posted adjustment is left out (the review shows the count as taken)."""
    moments = (
        StockCountLine.select(
            StockCountLine.sku,
            fn.MIN(StockCountLine.ts).alias("first"),
            fn.MAX(StockCountLine.ts).alias("last"),
        )
        .where(
            (StockCountLine.count_id == count.id)
            & (StockCountLine.store == count.store)
            & (StockCountLine.posted if count.state == "posted" else True)
        )
        .group_by(StockCountLine.sku)
        .alias("moments")
    )
    own = (StockMovement.terminal_id == FLEET_TERMINAL) & (StockMovement.seq == count.id)
    base = (
        StockMovement.select(moments.c.sku, fn.SUM(StockMovement.quantity))
        .join(moments, on=(StockMovement.sku == moments.c.sku))
        .where((StockMovement.store == count.store) & ~own)
        .group_by(moments.c.sku)
    )
    expected = dict(base.where(StockMovement.ts <= moments.c.last).tuples().bind(db))
    during = dict(
        base.where((StockMovement.ts > moments.c.first) & (StockMovement.ts <= moments.c.last))
        .tuples()
        .bind(db)
    )
    return (
        {sku: int(q or 0) for sku, q in expected.items()},
        {sku: int(q or 0) for sku, q in during.items()},
    )


def post(
    db: peewee.Database,
    count: Stocktake,
    by: str,
    at: datetime,
    in_scope: set[str] | None,
    *,
    seen_lines: int | None = None,
    anyway: bool = False,
) -> list[Difference]:
    """Post a closed count's differences as ``stocktake`` movements (dated now: the
    stock since the count moved on by its sales), approved by ``by``, as the reviewer saw
    them (``seen_lines``: the lines the review showed; more arrived since: refused, to be
    looked at again). Refused while a terminal of the store may hold sales not received
    yet (:func:`not_heard`), unless ``anyway``. Returns what moved."""
    with write_transaction(db):
        lock_named(db, f"count:{count.id}")
        fresh = _get(db, count.id)
        if fresh.state != "closed":
            raise CountError(f"count {label(count.id)} is {fresh.state}: close the counting first")
        behind = not_heard(db, fresh)
        if behind and not anyway:
            raise CountError("not yet: " + "; ".join(behind))
        review = build_review(db, fresh, in_scope)
        if seen_lines is not None and review.lines != seen_lines:
            raise CountError(
                f"{review.lines - seen_lines} more counted lines arrived since the review "
                "was shown: look at it again"
            )
        moved = review.differences
        rows = [
            {
                "terminal_id": FLEET_TERMINAL,
                "seq": count.id,
                "position": position,
                "part": 1,
                "store": count.store,
                "sku": d.sku,
                "quantity": d.adjustment,
                "kind": STOCKTAKE,
                "reason": f"count {label(count.id)}",
                "ts": at,
                "business_day": at.date(),
            }
            for position, d in enumerate(moved, start=1)
        ]
        record(db, rows)
        for terminal_id, seq in review.entries:  # the lists posted, not any come since
            StockCountLine.update(posted=True).where(
                (StockCountLine.terminal_id == terminal_id) & (StockCountLine.seq == seq)
            ).execute(db)
        Stocktake.update(state="posted", posted_by=by, posted_at=at).where(
            Stocktake.id == count.id
        ).execute(db)
    return moved


def line_rows(terminal_id: str, store: str, seq: int, ts: datetime, payload: dict) -> list[dict]:
    """A ``stock_count`` entry's lines as :class:`StockCountLine` rows (ValueError for a
    payload that names no count)."""
    count_id = number(str(payload["count"]))
    if count_id is None:
        raise ValueError(f"{str(payload['count'])[:20]!r} is not a count")
    return [
        {
            "terminal_id": terminal_id,
            "seq": seq,
            "position": position,
            "count_id": count_id,
            "store": store,
            "sku": str(line["sku"]),
            "quantity": milli(line["quantity"]),
            "ts": ts,
            "posted": False,
        }
        for position, line in enumerate(payload.get("lines") or [], start=1)
    ]
