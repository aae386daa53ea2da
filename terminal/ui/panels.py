"""Inline prompts over the current screen: a choice (reasons, menus), a typed entry
(amounts, codes), the supervisor's approval, the blind count, and lines to read (a
report, a count to confirm) with one action. While one is open the
key router sends keys and keypad taps to it; Esc (the back key) cancels it and returns
the cashier to where they were. ``PanelAsker`` asks a menu flow's questions with them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView

from terminal.core.approval import PASSKEY_MODE, ApprovalNeeded
from terminal.core.digits import is_digits
from terminal.core.errors import PosError
from terminal.core.money import Currency
from terminal.i18n import _, current_locale
from terminal.ui.asker import problem_with
from terminal.ui.touch_keyboard import TouchKeyboard
from terminal.ui.typeface import mono_font
from terminal.ui.widgets import KeyHooks, Keypad, PosButton, show_refusal


class Panel(KeyHooks, ModalView):
    title = StringProperty("")
    message = StringProperty("")
    message_is_error = BooleanProperty(False)

    def __init__(self, router, title: str, on_cancel: Callable[[], None] | None = None, **kw):
        self.router = router
        self._on_cancel = on_cancel
        super().__init__(auto_dismiss=False, size_hint=(0.94, 0.94), **kw)
        self.title = title
        self.frame = BoxLayout(orientation="vertical", padding="8dp", spacing="6dp")
        self.heading = Label(
            text=title, bold=True, font_size="18sp", size_hint_y=None, height="34dp"
        )
        self.note = Label(font_size="14sp", size_hint_y=None, height="40dp")
        self.bind(
            message=lambda *_a: self._show_message(),
            message_is_error=lambda *_a: self._show_message(),
        )
        self.frame.add_widget(self.heading)
        self.frame.add_widget(self.note)
        self.body = BoxLayout(spacing="6dp")
        self.frame.add_widget(self.body)
        self.buttons = BoxLayout(size_hint_y=None, height="52dp", spacing="6dp")
        self.cancel_button = PosButton(text=_("Cancel") + "\nEsc")
        self.cancel_button.bind(on_release=lambda _b: self.cancel())
        self.buttons.add_widget(self.cancel_button)
        self.frame.add_widget(self.buttons)
        self.add_widget(self.frame)

    def _show_message(self) -> None:
        self.note.text = self.message
        self.note.color = (1, 0.5, 0.45, 1) if self.message_is_error else (0.7, 0.95, 0.75, 1)

    def say(self, text: str, *, error: bool = False) -> None:
        self.message, self.message_is_error = text, error

    def show(self) -> Panel:
        self.router.push_panel(self)
        self.open(animation=False)
        return self

    def close(self) -> None:
        self.router.pop_panel(self)
        self.dismiss(animation=False)

    def cancel(self) -> None:
        self.close()
        if self._on_cancel:
            self._on_cancel()

    # the router's hooks (the rest: KeyHooks)
    def on_action(self, action: str) -> None:
        if action == "back":
            self.cancel()

    def on_scan(self, code: str) -> None:
        """A scan while a prompt is open is not for the prompt (a member card for the
        customer search is: see EntryPanel's ``accept_scans``)."""
        self.say(_("Finish or cancel this first; the scan was not used"), error=True)


class ChoicePanel(Panel):
    """Pick one of a few options: by touch, or by its number on the keyboard.

    With ``on_typed`` (a menu that also takes a search: the customer's menu), what is
    typed is text for that search, never an option's number - a phone number typed there
    must not pick "1 Edit" - and Enter sends it; the options are tapped. The note says
    which of the two the menu does."""

    def __init__(
        self,
        router,
        title,
        options: list[tuple[str, str]],
        on_choose,
        on_cancel=None,
        *,
        on_typed: Callable[[str], None] | None = None,
        typed_hint: str = "",
    ):
        super().__init__(router, title, on_cancel)
        self.options = options
        self._on_choose = on_choose
        self._on_typed = on_typed
        self.typed_hint = typed_hint
        self.typed = ""
        grid = GridLayout(cols=2, spacing="6dp")
        self.option_buttons: dict[str, PosButton] = {}
        for n, (key, label) in enumerate(options, start=1):
            button = PosButton(text=label if on_typed else f"{n}  {label}")
            button.bind(on_release=lambda _b, k=key: self.choose(k))
            self.option_buttons[key] = button
            grid.add_widget(button)
        if on_typed:
            column = BoxLayout(orientation="vertical", spacing="6dp")
            self.field = Label(font_size="20sp", bold=True, size_hint_y=None, height="40dp")
            column.add_widget(self.field)
            column.add_widget(grid)
            self.body.add_widget(column)
            self._show_typed()
        else:
            self.body.add_widget(grid)
            self.say(_("Press the number of an option, or tap it"))

    def _show_typed(self) -> None:
        self.field.text = self.typed or self.typed_hint
        self.field.color = (1, 1, 1, 1) if self.typed else (0.55, 0.58, 0.62, 1)

    def choose(self, key: str) -> None:
        self.close()
        self._on_choose(key)

    def on_text(self, text: str) -> None:
        if self._on_typed:
            self.typed = (self.typed + text)[:40]
            self._show_typed()
            return
        if is_digits(text) and 1 <= int(text) <= len(self.options):
            self.choose(self.options[int(text) - 1][0])
        elif text.strip():
            self.say(
                _("This menu has options 1 to {n}: press one, or tap it").format(
                    n=len(self.options)
                ),
                error=True,
            )

    def on_backspace(self) -> None:
        if self._on_typed:
            self.typed = self.typed[:-1]
            self._show_typed()

    def on_clear(self) -> None:
        if self._on_typed:
            self.typed = ""
            self._show_typed()

    def on_enter_key(self) -> None:
        if self._on_typed and self.typed.strip():
            typed, on_typed = self.typed.strip(), self._on_typed
            self.close()
            on_typed(typed)

    def on_scan(self, code: str) -> None:
        if self._on_typed:  # a member card scanned at the customer's menu: found
            self.close()
            self._on_typed(code)
            return
        super().on_scan(code)


class EntryPanel(Panel):
    """Type a value (an amount, a code, a name) with the keyboard or the keypad.
    ``on_ok(text)`` returns None when done, or the message to show and stay."""

    value = StringProperty("")

    def __init__(
        self,
        router,
        title,
        on_ok,
        *,
        hint="",
        secret=False,
        letters=False,
        accept_scans=False,
        money=False,
        max_length=40,
        on_cancel=None,
    ):
        super().__init__(router, title, on_cancel)
        self.max_length = max_length
        # an amount: shown as the currency is while typed ("Rp 500.000", not "500000")
        self.currency = router.service.currency if money else None
        self.accept_scans = accept_scans
        self._on_ok = on_ok
        self.secret = secret
        self.letters = letters
        self.hint = hint
        left = BoxLayout(orientation="vertical", spacing="6dp")
        self.field = Label(font_size="24sp", bold=True)
        if max_length > 40:  # an address: smaller, wrapped in the field's width
            self.field.font_size = "17sp"
            self.field.bind(width=lambda f, w: setattr(f, "text_size", (w, None)))
        left.add_widget(self.field)
        self.body.add_widget(left)
        self.keypad = self.keyboard = None
        if letters and router.touch_keyboard:
            # a name or a code by touch: the letters' keyboard under the field
            self.field.size_hint_y, self.field.height = None, dp(40)
            with self.field.canvas.before:  # where the letters go: a field, even empty
                Color(0.05, 0.06, 0.08, 1)
                box = Rectangle()
            self.field.bind(
                pos=lambda f, _v: setattr(box, "pos", f.pos),
                size=lambda f, _v: setattr(box, "size", f.size),
            )
            self.keyboard = TouchKeyboard(self)
            left.add_widget(self.keyboard)
        else:
            self.keypad = Keypad(size_hint_x=0.5, size_hint_y=1)
            self.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))
            self.body.add_widget(self.keypad)
        ok = PosButton(text=_("OK") + "\nENTER", background_color=(0.1, 0.55, 0.3, 1))
        ok.bind(on_release=lambda _b: self.on_enter_key())
        self.ok_button = ok
        self.buttons.add_widget(ok)
        self.bind(value=lambda *_a: self._redraw())
        self._redraw()

    def _redraw(self) -> None:
        if self.secret:
            shown = "\u2022" * len(self.value)
        elif self.currency:
            shown = self.currency.format_typed(self.value)
        else:
            shown = self.value
        self.field.text = shown or self.hint
        self.field.color = (1, 1, 1, 1) if self.value else (0.55, 0.58, 0.62, 1)

    def on_text(self, text: str) -> None:
        if self.letters:
            allowed = "".join(ch for ch in text if ch.isprintable())  # no Tab, no control
        elif self.currency:
            seps = self.currency.thousands_sep + self.currency.decimal_sep
            allowed = "".join(ch for ch in text if ch.isdigit() or ch in seps)
        else:
            allowed = "".join(ch for ch in text if ch.isdigit() or ch in ".,%")
        self.value = (self.value + allowed)[: self.max_length]

    def on_backspace(self) -> None:
        self.value = self.value[:-1]

    def on_clear(self) -> None:
        self.value = ""

    def on_scan(self, code: str) -> None:
        if not self.accept_scans:
            super().on_scan(code)
            return
        self.value = code
        self.on_enter_key()

    def on_enter_key(self) -> None:
        problem = problem_with(self._on_ok, self.value)
        if problem:
            if self.secret:
                self.value = ""
            self.say(problem, error=True)
            return
        if self in self.router.panels:
            self.close()


class ApprovalPanel(EntryPanel):
    """The supervisor's approval, inline: the category passkey, or (supervisor mode) the
    supervisor's number - a button per supervisor - then their own PIN."""

    def __init__(self, router, need: ApprovalNeeded, on_approved, on_cancel=None):
        service = router.service
        self.service = service
        self.need = need
        self._on_approved = on_approved
        self.passkey_mode = service.approvals.mode == PASSKEY_MODE
        self.supervisor = ""
        title = _("Supervisor approval: {action}").format(action=_(need.action))
        hint = _("Category passkey") if self.passkey_mode else _("Supervisor number")
        super().__init__(router, title, self._check, hint=hint, on_cancel=on_cancel)
        # dots from the first digit: a PIN typed where the number goes never shows
        self.secret = True
        if not self.passkey_mode:
            for supervisor in [c for c in service.cashiers() if c.is_supervisor][:4]:
                button = PosButton(text=f"{supervisor.id}  {supervisor.name}")
                button.bind(on_release=lambda _b, s=supervisor: self.pick(str(s.id)))
                self.buttons.add_widget(button, index=1)
        self._redraw()

    def pick(self, number: str) -> None:
        self.supervisor, self.value = number, ""
        self.secret = True
        self.hint = _("PIN of supervisor {n}").format(n=number)
        self.say("")
        self._redraw()

    def _check(self, text: str) -> str | None:
        if not self.passkey_mode and not self.supervisor:
            staff = {str(c.id): c for c in self.service.cashiers()}
            if text in staff and not staff[text].is_supervisor:
                self.value = ""
                return _("Cashier {n} is not a supervisor: a supervisor approves").format(n=text)
            if text not in staff:
                # perhaps a PIN typed first: never shown back, never kept
                self.value = ""
                return _("Choose the supervisor first: tap the name or type the number")
            self.pick(text)
            return ""  # stay: now the PIN
        cashier = self.service.cashier
        approval = self.service.approvals.approve(
            self.need.category, cashier, text, supervisor=self.supervisor, action=self.need.action
        )
        self.close()
        self._on_approved(approval)
        return None

    def on_enter_key(self) -> None:
        text = self.value
        try:
            problem = self._check(text)
        except PosError as exc:
            self.value = ""
            show_refusal(self, exc)
            return
        if problem:
            self.say(problem, error=True)


class CountPanel(Panel):
    """The blind count at shift close: how many of each note and coin, typed row by row
    (Enter moves on), never showing what the drawer should hold. Done (Enter on the
    last row, or the close button) hands the count on: the flow shows its total to
    confirm before anything is closed. ``counts``: a count to go on with (back from
    that confirmation)."""

    def __init__(
        self, router, title, denominations, currency, on_done, on_cancel=None, *, counts=None
    ):
        super().__init__(router, title, on_cancel)
        self.denominations = sorted(denominations, reverse=True)
        self.currency = currency
        self._on_done = on_done
        before = counts or {}
        self.counts = {d: str(before[d]) if before.get(d) else "" for d in self.denominations}
        self.row = 0
        grid = GridLayout(cols=2, spacing="2dp")
        self.cells: dict[int, PosButton] = {}
        for i, value in enumerate(self.denominations):
            cell = PosButton(font_size="14sp")
            cell.bind(on_release=lambda _b, n=i: self.select(n))
            self.cells[value] = cell
            grid.add_widget(cell)
        self.body.add_widget(grid)
        self.keypad = Keypad(size_hint_x=0.45, size_hint_y=1)
        self.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))
        self.body.add_widget(self.keypad)
        done = PosButton(
            text=_("Close the shift") + "\n" + router.keymap.label("pay_cash"),
            background_color=(0.1, 0.55, 0.3, 1),
        )
        done.bind(on_release=lambda _b: self.finish())
        self.done_button = done
        self.buttons.add_widget(done)
        self._redraw()

    def _redraw(self) -> None:
        total = 0
        for i, value in enumerate(self.denominations):
            count = self.counts[value]
            total += value * int(count or 0)
            self.cells[value].text = f"{self.currency.format(value)}  x {count or '-'}"
            self.cells[value].background_color = (
                (0.2, 0.4, 0.6, 1) if i == self.row else (0.26, 0.31, 0.38, 1)
            )
        self.say(_("Counted: {total}").format(total=self.currency.format(total)))

    def select(self, row: int) -> None:
        self.row = row
        self._redraw()

    def on_text(self, text: str) -> None:
        value = self.denominations[self.row]
        self.counts[value] = (self.counts[value] + "".join(c for c in text if c.isdigit()))[:4]
        self._redraw()

    def on_backspace(self) -> None:
        value = self.denominations[self.row]
        self.counts[value] = self.counts[value][:-1]
        self._redraw()

    def on_clear(self) -> None:
        self.counts[self.denominations[self.row]] = ""
        self._redraw()

    def on_action(self, action: str) -> None:
        if action == "pay_cash":  # the key shown on the close button: the count is done
            self.finish()
            return
        if action in ("line_up", "line_down"):
            step = -1 if action == "line_up" else 1
            self.select(max(0, min(len(self.denominations) - 1, self.row + step)))
            return
        super().on_action(action)

    def on_enter_key(self) -> None:
        if self.row < len(self.denominations) - 1:
            self.select(self.row + 1)
        else:
            self.finish()

    def finish(self) -> None:
        counts = {value: int(n) for value, n in self.counts.items() if n}
        self.close()
        self._on_done(counts)


class ReportPanel(Panel):
    """Lines to read - a report as it prints, a count to confirm - in a fixed-width font,
    scrolled with Up and Down, and one action: its button or the pay key (F12). Enter
    does not take it: a cashier pressing Enter through the rows of a count must not
    close the shift with one press too many. Esc goes back (``on_back``)."""

    def __init__(
        self, router, title, lines, on_action, *, action: str, on_back=None, back_label=""
    ):
        super().__init__(router, title, on_back)
        self.lines = list(lines)
        self.action = action
        self._on_action = on_action
        self.columns = max((len(line) for line in self.lines), default=1) or 1
        self.scroll = ScrollView(do_scroll_x=False, bar_width=dp(6))
        text = "\n".join(self.lines)
        self.text = Label(
            text=text,
            font_name=mono_font(current_locale(), text),
            halign="left",
            valign="top",
            size_hint_y=None,
        )
        self.text.bind(texture_size=lambda label, size: setattr(label, "height", size[1]))
        self.scroll.bind(width=lambda _s, width: self._fit(width))
        self.scroll.add_widget(self.text)
        self.body.add_widget(self.scroll)
        if back_label:
            self.cancel_button.text = back_label + "\nEsc"
        self.key = router.keymap.label("pay_cash")
        button = PosButton(
            text=f"{action}\n{self.key}".strip(), background_color=(0.1, 0.55, 0.3, 1)
        )
        button.bind(on_release=lambda _b: self.take())
        self.action_button = button
        self.buttons.add_widget(button)

    def _fit(self, width: float) -> None:
        """Every line on one row: the font as large as the widest line lets it be (a
        monospaced character is 0.6 of the font size wide), at most 16sp."""
        self.text.width = width - dp(8)
        self.text.text_size = (self.text.width, None)
        self.text.font_size = max(dp(8), min(dp(16), self.text.width / (self.columns * 0.61)))

    def take(self) -> None:
        self.close()
        self._on_action()

    def scroll_by(self, lines: int) -> None:
        """Up and Down scroll a few lines at a time."""
        overflow = self.text.height - self.scroll.height
        if overflow <= 0:
            return
        step = self.text.font_size * 1.2 * lines / overflow
        self.scroll.scroll_y = max(0.0, min(1.0, self.scroll.scroll_y - step))

    def on_action(self, action: str) -> None:
        if action == "pay_cash":
            self.take()
        elif action in ("line_up", "line_down"):
            self.scroll_by(-4 if action == "line_up" else 4)
        else:
            super().on_action(action)

    def on_enter_key(self) -> None:
        self.say(
            _("Press {key} or tap {action}").format(key=self.key, action=self.action),
            error=True,
        )


class PanelAsker:
    """A menu flow's questions (see :mod:`terminal.ui.asker`) as prompts over ``screen``;
    what the flow says shows on that screen."""

    def __init__(self, router, screen) -> None:
        self.router = router
        self.screen = screen

    def choose(
        self,
        title: str,
        options: Sequence[tuple[str, str]],
        then,
        *,
        typed=None,
        typed_hint: str = "",
    ) -> None:
        ChoicePanel(
            self.router, title, list(options), then, on_typed=typed, typed_hint=typed_hint
        ).show()

    def enter(
        self,
        title: str,
        then,
        *,
        value: str = "",
        hint: str = "",
        secret: bool = False,
        letters: bool = False,
        accept_scans: bool = False,
        money: bool = False,
        max_length: int = 40,
    ) -> None:
        panel = EntryPanel(
            self.router,
            title,
            then,
            hint=hint,
            secret=secret,
            letters=letters,
            accept_scans=accept_scans,
            money=money,
            max_length=max_length,
        )
        panel.value = value
        panel.show()

    def count(
        self, title: str, denominations: Sequence[int], currency: Currency, then, *, counts=None
    ) -> None:
        CountPanel(self.router, title, denominations, currency, then, counts=counts).show()

    def show(
        self, title: str, lines: Sequence[str], then, *, action: str, back=None, back_label=""
    ) -> None:
        ReportPanel(
            self.router, title, lines, then, action=action, on_back=back, back_label=back_label
        ).show()

    def approve(self, action, then) -> None:
        self.router.with_approval(action, then)

    def say(self, text: str, *, error: bool = False) -> None:
        self.screen.say(text, error=error)

    def next(self, step) -> None:
        Clock.schedule_once(lambda _dt: step(), 0)
