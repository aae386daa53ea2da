"""Words the console shows for values it reads from the database (roles, tenders, states,
alert and event kinds, report columns): each marked for the catalogues here, shown in
the viewer's language by :func:`label`; a value not listed is shown as it is."""

from __future__ import annotations

from collections.abc import Callable

from terminal.core.errors import N_

LABELS = {
    # roles
    "admin": N_("fleet admin"),
    "owner": N_("owner"),
    "manager": N_("store manager"),
    "auditor": N_("auditor"),
    "finance": N_("finance"),
    "warehouse": N_("warehouse"),
    "online order": N_("online order"),
    # a bank statement line's match (fleet.orders.matching)
    "amount": N_("by the exact amount"),
    "amount and name": N_("by amount and name"),
    "ambiguous": N_("several bookings: choose"),
    "no open booking of this amount": N_("no open booking of this amount"),
    "already matched": N_("already matched"),
    "not a credit": N_("not a credit"),
    # tenders
    "cash": N_("cash"),
    "card": N_("card"),
    "points": N_("points"),
    # a rollout's state
    "running": N_("running"),
    "paused": N_("paused"),
    "stopped": N_("stopped"),
    "aborted": N_("aborted"),
    "done": N_("done"),
    # a configuration proposal's state
    "pending": N_("waiting for approval"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
    # an account's state
    "disabled": N_("disabled"),
    "active": N_("active"),
    # jobs and their answers
    "send_now": N_("send now"),
    "x_report": N_("X report"),
    "lock": N_("lock"),
    "unlock": N_("unlock"),
    "message": N_("message to the cashier"),
    "diagnostics": N_("diagnostics"),
    "rotate_certificate": N_("new MQTT certificate"),
    "install_certificate": N_("install the certificate"),
    "accepted": N_("accepted"),
    "refused": N_("refused"),
    "failed": N_("failed"),
    # a terminal's state
    "online": N_("online"),
    "offline": N_("offline"),
    # device events and alerts
    "paper_out": N_("paper out"),
    "paper_near_end": N_("paper near its end"),
    "cover_open": N_("printer cover open"),
    "printer_offline": N_("printer offline"),
    "printer_error": N_("printer error"),
    "drawer_open_too_long": N_("drawer open too long"),
    "card_terminal_offline": N_("card terminal offline"),
    "scanner_missing": N_("scanner missing"),
    "scanner_offline": N_("scanner offline"),
    "keypad_missing": N_("keypad missing"),
    "keypad_offline": N_("keypad offline"),
    "device_offline": N_("device offline"),
    "fiscal_pending": N_("e-barimt receipts pending"),
    "fraud_signal": N_("fraud signal"),
    "lockout": N_("lockout"),
    "journal_truncated": N_("journal cut short"),
    "gap": N_("entries missing"),
    "declared gap": N_("entries declared missing"),
    "hash mismatch": N_("entry changed"),
    "broken link": N_("chain broken"),
    "unknown key": N_("unknown signing key"),
    "bad signature": N_("bad signature"),
    "bad payload": N_("unreadable entry"),
    "bad message": N_("malformed message"),
    "terminal mismatch": N_("another terminal's entries"),
    "unknown terminal": N_("unknown terminal"),
    "ingest error": N_("not stored"),
    "central": N_("report rows not built"),
    "config refused": N_("configuration refused"),
    "job failed": N_("job failed"),
    "job refused": N_("job refused"),
    # online orders: a drop order's and a booking's state, a stock move, a stock state
    "requested": N_("requested"),
    "handed": N_("handed over"),
    "returned": N_("returned"),
    "cancelled": N_("cancelled"),
    "released": N_("released"),
    "open": N_("open"),
    "paid": N_("paid"),
    "sold": N_("sold"),
    "receive": N_("received"),
    "hand_over": N_("handed over"),
    "take_back": N_("taken back"),
    "book": N_("booked"),
    "sell": N_("sold"),
    "available": N_("available"),
    "booked": N_("booked"),
    # a stock movement's kind (terminal.core.inventory)
    "sale": N_("sale"),
    "refund": N_("refund"),
    "damage": N_("damage"),
    "receiving": N_("goods received"),
    "loss": N_("loss"),
    "stocktake": N_("stock count"),
    "transfer": N_("transfer"),
    "delivery": N_("delivery"),
    "unavailable": N_("unavailable"),
    # a stock count's state (fleet.stocktake), shown as label("count " + state)
    "count open": N_("counting"),
    "count closed": N_("counting ended"),
    "count posted": N_("posted"),
    "count cancelled": N_("cancelled"),
}


def labeller(gettext: Callable[[str], str]) -> Callable[[str], str]:
    def label(value: str) -> str:
        found = LABELS.get(value)
        return gettext(found) if found else value

    return label
