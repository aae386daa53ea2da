"""A scripted cash sale in the real app: what `make run` shows with no display, and the
source of the README's screenshots."""

from __future__ import annotations

from pathlib import Path

from kivy.base import EventLoop
from kivy.core.window import Window

from terminal.config import Settings
from terminal.services.demo import DEMO_CASHIER, DEMO_SUPERVISOR, weighed_barcode
from terminal.services.pos import PosService
from terminal.ui.app import PosRoot
from terminal.ui.driver import UiDriver


def run_demo(pos: PosService, settings: Settings, out_dir: Path) -> list[Path]:
    EventLoop.ensure_window()
    root = PosRoot(pos, settings)
    root.attach()
    Window.add_widget(root)
    ui = UiDriver()
    shots = [ui.screenshot(out_dir / "1-sign-in.png")]
    operator, pin = str(DEMO_CASHIER[0]), DEMO_CASHIER[3]
    ui.type(operator)
    ui.key("enter")
    ui.type(pin)
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "the sale screen")
    if root.panels:  # no shift open yet: the opening float is asked first
        shots.append(ui.screenshot(out_dir / "1b-opening-float.png"))
        ui.type("500000")
        ui.key("enter")
    ui.key("f3")  # search by name: the results teach the codes
    ui.wait_until(lambda: root.current == "search", "the search screen")
    ui.type("indomie")
    shots.append(ui.screenshot(out_dir / "2a-search.png"))
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "back on the sale")
    ui.key("f2")  # the customer: a name by touch, on the screen's keyboard
    ui.frames(2)
    shots.append(ui.screenshot(out_dir / "2b-keyboard.png"))
    ui.key("escape")
    for code in (
        "8991002101111",
        "8991002101111",
        weighed_barcode("22", "10001", 1234),
        "4006381333931",
    ):
        ui.scan(code)
    shots.append(ui.screenshot(out_dir / "2-sale.png"))
    ui.key("f12")
    ui.wait_until(lambda: root.current == "payment", "the payment screen")
    ui.type("100000")
    shots.append(ui.screenshot(out_dir / "3-payment.png"))
    ui.key("enter")
    ui.wait_until(lambda: root.last_outcome is not None, "the sale to complete")
    shots.append(ui.screenshot(out_dir / "4-change.png"))
    sold = root.last_outcome.committed
    ui.key("f7")  # a refund: the receipt's return code, one tea back
    ui.wait_until(lambda: root.current == "refund", "the refund screen")
    ui.scan(sold.return_code)
    ui.key("down")  # (the first line is the noodles found by the search)
    ui.type("1")
    ui.key("enter")
    shots.append(ui.screenshot(out_dir / "5-refund.png"))
    ui.key("f12")
    if root.panels:  # the reason, then the supervisor's approval (when the shop wants it)
        ui.type("1")
        supervisor, supervisor_pin = str(DEMO_SUPERVISOR[0]), DEMO_SUPERVISOR[3]
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
