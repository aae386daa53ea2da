"""The online-orders part of the scripted tour (``pos-terminal demo`` at a CS desk, what
``make run-online`` shows with no display): F4, the stock of an item across the shop's
locations, then a booking for a chat customer and its slip. Its calls go to the fleet
over the broker, as at a desk; the fleet must be running (``make run-online`` starts it).
"""

from __future__ import annotations

from pathlib import Path

from kivy.base import EventLoop
from kivy.core.window import Window

from terminal.config import Settings
from terminal.services.pos import PosService
from terminal.ui.app import PosRoot
from terminal.ui.driver import UiDriver

ITEM = "8991002101111"  # Teh Botol Sosro: the demo shop's desk has some (pos-fleet orders seed)
CUSTOMER = ("Dewi Lestari", "0812 3456 7890", "Jl. Melati 5, Menteng, Jakarta Pusat 10310")


def run_online_demo(pos: PosService, settings: Settings, out_dir: Path) -> list[Path]:
    EventLoop.ensure_window()
    root = PosRoot(pos, settings)
    root.attach()
    Window.add_widget(root)
    ui = UiDriver(max_frames=3000)  # the fleet's answers come over the broker
    ui.type("1")
    ui.key("enter")
    ui.type("1357")
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "the sale screen")
    if root.panels:  # no shift open yet: the opening float is asked first
        ui.type("200000")
        ui.key("enter")
    shots = []
    ui.key("f4")
    ui.wait_until(lambda: bool(root.panels), "the online-orders menu")
    shots.append(ui.screenshot(out_dir / "online-1-menu.png"))
    ui.type("1")  # check stock
    ui.scan(ITEM)
    sale = root.get_screen("sale")
    ui.wait_until(lambda: _title(root).startswith("TEH-BTL") or sale.message_is_error, "stock")
    if sale.message_is_error:  # the fleet refused, or does not answer: said, and the tour ends
        raise SystemExit(f"online orders: {sale.message}")
    shots.append(ui.screenshot(out_dir / "online-2-stock.png"))
    ui.key("escape")
    ui.key("f4")
    ui.wait_until(lambda: bool(root.panels), "the online-orders menu")
    ui.type("2")  # book an item for a customer
    ui.scan(ITEM)
    for answer in CUSTOMER:
        ui.type(answer)
        ui.key("enter")
    ui.type("1")  # the first courier
    ui.wait_until(lambda: bool(root.panels), "the booking to confirm")
    shots.append(ui.screenshot(out_dir / "online-3-confirm.png"))
    confirm = _title(root)
    ui.key("f12")  # book and print: the booking's number, or why not
    ui.wait_until(lambda: _title(root) != confirm or bool(sale.message), "booked")
    shots.append(ui.screenshot(out_dir / "online-4-booked.png"))
    ui.key("f12")
    root.detach()
    Window.remove_widget(root)
    return shots


def _title(root) -> str:
    return root.panels[-1].title if root.panels else ""
