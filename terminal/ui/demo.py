"""A scripted cash sale in the real app: what `make run` shows with no display, and the
source of the README's screenshots. It sells the demo store's own goods (Indonesian,
Mongolian or Chinese: :mod:`terminal.services.demo_stores`)."""

from __future__ import annotations

from pathlib import Path

from kivy.base import EventLoop
from kivy.core.window import Window

from terminal.config import Settings
from terminal.services.demo import weighed_barcode
from terminal.services.demo_stores import demo_store
from terminal.services.pos import PosService
from terminal.ui.app import PosRoot
from terminal.ui.driver import UiDriver


def run_demo(pos: PosService, settings: Settings, out_dir: Path) -> list[Path]:
    EventLoop.ensure_window()
    store = demo_store(settings.store.currency.code)
    item = store.product(store.scanned_sku).barcodes[0]
    root = PosRoot(pos, settings)
    root.attach()
    Window.add_widget(root)
    ui = UiDriver()
    shots = [ui.screenshot(out_dir / "1-sign-in.png")]
    operator, pin = str(store.cashier[0]), store.cashier[3]
    ui.type(operator)
    ui.key("enter")
    ui.type(pin)
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "the sale screen")
    if root.panels:  # no shift open yet: the opening float is asked first
        shots.append(ui.screenshot(out_dir / "1b-opening-float.png"))
        ui.type(store.opening_float)
        ui.key("enter")
    ui.key("f3")  # search by name: the results teach the codes
    ui.wait_until(lambda: root.current == "search", "the search screen")
    ui.type(store.search)
    shots.append(ui.screenshot(out_dir / "2a-search.png"))
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "back on the sale")
    ui.key("f2")  # the customer: a name by touch, on the screen's keyboard
    ui.frames(2)
    shots.append(ui.screenshot(out_dir / "2b-keyboard.png"))
    ui.key("escape")
    for code in (
        item,
        item,
        weighed_barcode("22", store.weighed_plu, 1234),
        "4006381333931",  # a code the shop does not sell: the screen says so
    ):
        ui.scan(code)
    shots.append(ui.screenshot(out_dir / "2-sale.png"))
    ui.key("f12")
    ui.wait_until(lambda: root.current == "payment", "the payment screen")
    ui.type(store.tendered)
    shots.append(ui.screenshot(out_dir / "3-payment.png"))
    ui.key("enter")
    ui.wait_until(lambda: root.last_outcome is not None, "the sale to complete")
    shots.append(ui.screenshot(out_dir / "4-change.png"))
    sold = root.last_outcome.committed
    ui.key("f7")  # a refund: the receipt's return code, one of the two scanned back
    ui.wait_until(lambda: root.current == "refund", "the refund screen")
    ui.scan(sold.return_code)
    ui.key("down")  # (the first line is what the search found)
    ui.type("1")
    ui.key("enter")
    shots.append(ui.screenshot(out_dir / "5-refund.png"))
    ui.key("f12")
    if root.panels:  # the reason, then the supervisor's approval (when the shop wants it)
        ui.type("1")
        supervisor, supervisor_pin = str(store.supervisor[0]), store.supervisor[3]
        ui.type(supervisor)
        ui.key("enter")
        ui.type(supervisor_pin)
        ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "the refund to be done")
    shots.append(ui.screenshot(out_dir / "6-refund-done.png"))
    receipts = settings.data_dir / "receipts"
    shots.append(receipts / f"{sold.label}.png")
    root.detach()
    Window.remove_widget(root)
    return shots
