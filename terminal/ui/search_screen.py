"""The search screen: products by name, SKU or barcode digits, typed or tapped."""

from __future__ import annotations

from kivy.metrics import dp
from kivy.properties import NumericProperty, StringProperty
from kivy.utils import escape_markup

from terminal.i18n import _
from terminal.ui.widgets import PosButton, PosScreen, load_kv

load_kv(__file__)


class SearchScreen(PosScreen):
    query = StringProperty("")
    selected = NumericProperty(0)

    def on_kv_post(self, base_widget) -> None:
        for char in "1234567890QWERTYUIOPASDFGHJKL-ZXCVBNM ":
            label = _("Space") if char == " " else char
            button = PosButton(text=label, font_size="15sp")
            button.bind(on_release=lambda _b, c=char: self.on_text(c.lower()))
            self.ids.letters.add_widget(button)
        back = PosButton(text="\u232b", font_size="18sp", font_name="data/fonts/DejaVuSans.ttf")
        back.bind(on_release=lambda _b: self.on_backspace())
        self.ids.letters.add_widget(back)

    def on_pre_enter(self) -> None:
        self.query = ""
        self.say("")
        self.show([])

    def on_query(self, _inst, value: str) -> None:
        self.selected = 0
        self.show(self.service.search(value))

    def show(self, products) -> None:
        self.results = products
        grid = self.ids.results
        grid.clear_widgets()
        for i, product in enumerate(products):
            button = PosButton(
                text=self.result_text(product),
                markup=True,
                font_size="14sp",
                size_hint_y=None,
                background_color=(0.2, 0.4, 0.6, 1)
                if i == self.selected
                else (0.26, 0.31, 0.38, 1),
            )
            # as tall as its three lines need: a name that wraps is never cut
            button.bind(
                texture_size=lambda b, size: setattr(
                    b, "height", max(b.size_hint_min_y or 0, size[1] + dp(10))
                )
            )
            button.bind(on_release=lambda _b, p=product: self.pick(p))
            grid.add_widget(button)

    def result_text(self, product) -> str:
        """Name; price (per kg when weighed); the codes a cashier can type for it next
        time - the SKU, and the barcode or the scale's item number."""
        price = self.service.currency.format(product.price)
        if product.sold_by_weight:
            price = _("{price} per kg").format(price=price)
        codes = [product.sku]
        if product.barcodes:
            codes.append(product.barcodes[0])
        elif product.plu:
            codes.append(_("scale item {plu}").format(plu=product.plu))
        shown = "  \u00b7  ".join(escape_markup(code) for code in codes)
        return f"{escape_markup(product.name)}\n[b]{price}[/b]\n[color=a9bccf]{shown}[/color]"

    def on_text(self, text: str) -> None:
        self.query = (self.query + text)[:30]

    def on_backspace(self) -> None:
        self.query = self.query[:-1]

    def on_enter_key(self) -> None:
        if self.results:
            self.pick(self.results[self.selected])
        else:
            self.say(_("Nothing found"), error=True)

    def on_action(self, action: str) -> None:
        if action == "back":
            self.go("sale")
        elif action in ("line_up", "line_down") and self.results:
            step = -1 if action == "line_up" else 1
            self.selected = max(0, min(len(self.results) - 1, self.selected + step))
            self.show(self.results)

    def on_scan(self, code: str) -> None:
        self.go("sale")
        self.manager.get_screen("sale").on_scan(code)

    def pick(self, product) -> None:
        self.go("sale")
        self.manager.get_screen("sale").add_product(product)
