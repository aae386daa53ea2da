"""The full-screen app: the screen manager, and the one place keys and scans arrive.

Keys come from the keyboard, a USB keypad, or a keyboard-wedge scanner - all the same
to SDL. ``on_key_down`` runs mapped actions and Enter/Backspace; ``on_textinput``
types text into the current screen (layout-aware, so a scanner's digits and a
cashier's letters arrive as typed). A key that ran an action does not also type.
Keys of a keypad that is not a keyboard (evdev, matrix, simulator) and codes of a
scanner that is not (serial, evdev, the simulator's pipe) arrive from their devices'
threads and are handed to the window's thread.

The screens follow the service's event stream (device health, a new shop
configuration) instead of asking again and again; service calls that take time run on
the :class:`~terminal.ui.worker.Worker`.
"""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Keyboard, Window
from kivy.uix.screenmanager import NoTransition, ScreenManager

from terminal.config import Settings
from terminal.core.approval import ApprovalNeeded
from terminal.core.errors import PosError
from terminal.i18n import _, current_locale, set_locale
from terminal.services.events import Event
from terminal.services.fleet_jobs import LOCKED
from terminal.services.pos import PosService, SaleOutcome
from terminal.ui.keymap import ENTER_KEYS, KeyMap
from terminal.ui.panels import ApprovalPanel
from terminal.ui.payment_screen import PaymentScreen
from terminal.ui.refund_screen import RefundScreen
from terminal.ui.sale_screen import SaleScreen
from terminal.ui.screenshot import save_screenshot
from terminal.ui.search_screen import SearchScreen
from terminal.ui.signin_screen import SignInScreen
from terminal.ui.stopped import StoppedScreen
from terminal.ui.typeface import use_font_for
from terminal.ui.watchdog import Watchdog
from terminal.ui.worker import Worker

log = logging.getLogger(__name__)
_KEY_NAMES = {code: name for name, code in Keyboard.keycodes.items()}
SCREENS = (
    (SignInScreen, "signin"),
    (SaleScreen, "sale"),
    (PaymentScreen, "payment"),
    (SearchScreen, "search"),
    (RefundScreen, "refund"),
)


class PosRoot(ScreenManager):
    """Screens plus routing of keys and scans to whichever screen is showing."""

    def __init__(self, pos: PosService, settings: Settings, **kwargs) -> None:
        super().__init__(transition=NoTransition(), **kwargs)
        self.service = pos
        self.settings = settings
        self.keymap = KeyMap(settings.keys)
        # text fields get Kivy's keyboard on the screen (a touch terminal without keys)
        self.touch_keyboard = settings.ui.on_screen_keyboard
        self.screenshot_dir = settings.ui.screenshot_dir
        self.last_outcome: SaleOutcome | None = None
        self.panels: list = []  # open prompts, the newest gets the keys
        self.worker = Worker()
        self.health_events: list[str] | None = None  # the last ones shown
        self._swallow_text = False
        self._unsubscribe = None
        # the language the terminal started in (the shop's): a session in another one, a
        # cashier's choice at sign-in, returns to it at sign-out
        self.shop_locale = current_locale()
        use_font_for(self.shop_locale)
        self._add_screens()
        self.current = "signin"
        self.bind(current=self._screen_changed)

    def _add_screens(self) -> None:
        for cls, name in SCREENS:
            self.add_widget(cls(self.service, self, name=name))

    # -- the UI language -----------------------------------------------------------------------
    def set_language(self, locale: str) -> None:
        """The screens in another language (receipts keep the shop's: they have their
        own translator). Every screen is made anew: kv rules and screens translate their
        texts when built, and labels take the font they are made with. What the sign-in
        screen holds (the number typed, the step) is kept; nothing else is in a screen
        between sessions."""
        if locale == current_locale() or self.has_screen("stopped"):
            return
        set_locale(locale)
        use_font_for(locale)
        shown = self.current
        signin = self.get_screen("signin")
        typed = signin.operator, signin.step
        countdown = getattr(signin, "_countdown", None)  # a lockout's, in the old language
        if countdown is not None:
            countdown.cancel()
        self.panels.clear()
        self.clear_widgets()
        self._add_screens()
        self.current = shown
        signin = self.get_screen("signin")
        signin.operator, signin.step = typed
        if self.health_events is not None:
            self.get_screen("sale").show_health(self.health_events)

    # -- window binding ------------------------------------------------------------------------
    def attach(self) -> None:
        Window.bind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        self._unsubscribe = self.service.events.subscribe(
            lambda event: Clock.schedule_once(lambda _dt: self._on_event(event)),
            {"health_changed", "config_applied", "database_damaged", "fleet_message", "fleet_lock"},
        )
        self._fleet_poll = None
        if self.service.settings.fleet.enabled:  # configuration the fleet agent verified
            self._fleet_poll = Clock.schedule_interval(
                lambda _dt: (self.service.fleet_config.poll(), self.service.fleet_jobs.poll()), 1.0
            )

    def detach(self) -> None:
        Window.unbind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        if self._unsubscribe is not None:
            self._unsubscribe()
        if getattr(self, "_fleet_poll", None) is not None:
            self._fleet_poll.cancel()

    def _on_event(self, event: Event) -> None:
        """On the window's thread: what the service published."""
        if event.kind == "health_changed":
            self.health_events = event.data["events"]
            self.get_screen("sale").show_health(self.health_events)
        elif event.kind == "database_damaged":
            self.panels.clear()
            self.add_widget(StoppedScreen(event.data["reason"], name="stopped"))
            self.current = "stopped"
            Window.unbind(on_key_down=self._on_key_down, on_textinput=self._on_textinput)
        elif event.kind == "fleet_message":  # a message to the cashier from the fleet
            self.get_screen("sale").say(
                _("Message from the fleet: {text}").format(text=event.data["text"])
            )
        elif event.kind == "fleet_lock":
            reason = event.data["reason"]
            if reason is None:
                self.get_screen("sale").say(_("Unlocked by the fleet"))
            else:
                self.get_screen("sale").say(_(LOCKED).format(reason=reason), error=True)
        elif event.kind == "config_applied":
            self.settings = self.service.settings
            self.keymap = KeyMap(self.settings.keys)  # a new key map, store name, texts
            for screen in self.screens:
                screen.config_applied()

    def check_health(self) -> None:
        """Read the devices' health now (the device watch does it every 5 s and after
        each sale); the answer comes back as a health event. On the worker: a printer
        that does not answer takes its timeouts there, never on the window."""
        self.worker.run(lambda: self.service.device_watch.check(force=True))

    def keypad_key(self, key: str) -> None:
        """A key from a keypad that is not a keyboard: digits type, Enter confirms,
        Clear clears, Backspace takes the last digit back (a PIN typed on it never
        passes through the keyboard, nor any other program)."""
        target = self.target
        if key == "backspace":
            target.on_backspace()
        else:
            target.on_keypad({"enter": "OK", "clear": "C"}.get(key, key))

    @property
    def target(self):
        """Where keys go: the newest open prompt, else the screen."""
        return self.panels[-1] if self.panels else self.current_screen

    def push_panel(self, panel) -> None:
        self.panels.append(panel)
        self.screenshot(f"panel-{type(panel).__name__}")

    def pop_panel(self, panel) -> None:
        if panel in self.panels:
            self.panels.remove(panel)

    def with_approval(self, action, on_done, *, on_cancel=None) -> None:
        """Run ``action(approval)``: first without approval; if the shop's rules ask for
        one, the approval prompt opens inline and the action runs again with it.
        Refusals are shown on the current screen; cancel returns to where one was."""
        screen = self.current_screen
        try:
            result = action(None)
        except ApprovalNeeded as need:

            def approved(approval) -> None:
                try:
                    done = action(approval)
                except PosError as exc:
                    screen.refuse(exc)
                    return
                on_done(done)

            screen.say(_("Waiting for a supervisor's approval"))
            ApprovalPanel(
                self, need, approved, on_cancel=on_cancel or (lambda: screen.say(""))
            ).show()
            return
        except PosError as exc:
            screen.refuse(exc)
            return
        on_done(result)

    def _on_key_down(self, _window, key: int, _scancode, _codepoint, modifiers) -> bool:
        name = _KEY_NAMES.get(key, "")
        screen = self.target
        # SDL sends a key's text right after its key-down; a new key-down means the
        # previous key typed nothing (F-keys, arrows), so nothing is left to swallow.
        self._swallow_text = False
        action = self.keymap.action_for(name)
        if action:
            self._swallow_text = True
            screen.on_action(action)
            return True
        if name in ENTER_KEYS:
            screen.on_enter_key()
            return True
        if name == "backspace":
            screen.on_backspace()
            return True
        return False

    def _on_textinput(self, _window, text: str) -> None:
        if self._swallow_text:
            self._swallow_text = False
            return
        # a mapped character typed on an ordinary keyboard (``*`` is Shift+8 there, not
        # the keypad's own key): the key map matches the character as well as the key
        action = self.keymap.action_for(text) if len(text) == 1 and not text.isalnum() else None
        if action:
            self.target.on_action(action)
            return
        self.target.on_text(text)

    # -- events from the screens and the scanner -------------------------------------------
    def scan(self, code: str) -> None:
        """A code from a scanner backend that is not a keyboard (simulator pipe, serial)."""
        self.target.on_scan(code)

    def signed_in(self, cashier) -> None:
        self.current = "sale"
        if self.service.shift is None:
            self.get_screen("sale").ask_opening_float()

    def sign_out(self) -> None:
        self.service.sign_out()
        # each session starts clean: no change, status or message of the last one
        self.last_outcome = None
        sale = self.get_screen("sale")
        sale.change_text = sale.last_name = sale.last_amount = ""
        for screen in self.screens:
            if hasattr(screen, "reset_session"):  # (the stopped screen has no session)
                screen.reset_session()
        self.current = "signin"
        self.set_language(self.shop_locale)  # the next cashier finds the shop's language

    def sale_done(self, outcome: SaleOutcome) -> None:
        self.last_outcome = outcome
        self.current = "sale"
        sale = self.get_screen("sale")
        sale.show_change(outcome.change, outcome.committed.label, outcome.print_error)
        sale.refresh()
        self.check_health()
        self.screenshot("sale-complete")

    # -- screenshots -------------------------------------------------------------------------
    def _screen_changed(self, _inst, name: str) -> None:
        self.screenshot(f"screen-{name}")

    def screenshot(self, name: str) -> None:
        if self.screenshot_dir:
            # after the next frame is drawn, so the picture shows the new state
            Clock.schedule_once(
                lambda _dt: save_screenshot(self.screenshot_dir / f"{name}.png"), 0.05
            )


class PosApp(App):
    """The terminal's window: made from the composition root's :class:`Terminal`, whose
    devices it starts (after giving the scanner and the keypad their handlers) and
    stops when the window closes."""

    title = "POS"

    def __init__(self, terminal, settings: Settings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.terminal = terminal
        self.service = terminal.pos
        self.settings = settings
        self.watchdog = Watchdog(Clock)  # systemd's READY/WATCHDOG; nothing outside systemd

    def build(self) -> PosRoot:
        root = PosRoot(self.service, self.settings)
        root.attach()
        # their devices' threads deliver these: hand them to the window's thread
        self.terminal.scanner.listen(lambda code: Clock.schedule_once(lambda _dt: root.scan(code)))
        self.terminal.keypad.listen(
            lambda key: Clock.schedule_once(lambda _dt: root.keypad_key(key))
        )
        self.terminal.start()
        return root

    def on_start(self) -> None:
        log.info("terminal %s started", self.settings.terminal_id)  # (a test waits for it)
        self.watchdog.start()  # READY=1 after the first frame, then pings from this clock

    def on_stop(self) -> None:
        self.watchdog.stop()  # STOPPING=1 first: closing the devices may take a while
        self.terminal.stop()  # journal, key store memory, devices closed
