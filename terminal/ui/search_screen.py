"""The search screen: products by name, SKU or barcode digits, typed or tapped."""

from __future__ import annotations

from kivy.properties import NumericProperty, StringProperty

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
                text=f"{product.name}\n{self.service.currency.format(product.price)}",
                font_size="14sp",
                background_color=(0.2, 0.4, 0.6, 1)
                if i == self.selected
                else (0.26, 0.31, 0.38, 1),
            )
            button.bind(on_release=lambda _b, p=product: self.pick(p))
            grid.add_widget(button)

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
