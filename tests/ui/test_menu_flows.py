"""The menu flows (shift, customer, passkey settings) without Kivy: each flow asks a
scripted cashier (``ScriptedAsker``) and works on a real terminal (the encrypted
database, the journal, the simulated printer and drawer). What is asked, in which order,
what comes of each answer, what is said, and what the journal records.

The flow modules import no Kivy (the first test checks it in a fresh interpreter); these
tests live under tests/ui only because the flows do, and use no window."""

from __future__ import annotations

import dataclasses
import enum
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from terminal.core.approval import CATEGORIES, CLOSE_DAY, CUSTOMERS, ApprovalNeeded
from terminal.core.errors import PosError
from terminal.i18n import _
from terminal.services.bootstrap import build_terminal
from terminal.services.shifts import NO_SALE_REASONS
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from terminal.ui.asker import problem_with
from terminal.ui.customer_menu import CustomerMenu
from terminal.ui.settings_menu import PasskeySettings
from terminal.ui.shift_menu import ShiftMenu
from tests.conftest import ROOT, with_open_shift

SUPERVISOR = ("2", "2580")  # Budi, number and PIN


@dataclass
class Asked:
    kind: str  # choose, enter, count, show, approval
    title: str
    options: list[tuple[str, str]] = field(default_factory=list)
    flags: dict = field(default_factory=dict)  # an entry's value, hint, secret, ...
    problems: list[str] = field(default_factory=list)  # said of wrong answers, in order

    @property
    def keys(self) -> list[str]:
        return [key for key, _label in self.options]


@dataclass(frozen=True)
class Typed:
    """An answer typed at a menu that takes text (the customer's menu): not an option."""

    text: str


class Shown(enum.Enum):
    """The answers to lines shown (a report, a count to confirm): take the action, or
    go back (Esc)."""

    TAKE = "take"
    BACK = "back"


class ScriptedAsker:
    """A cashier answering from a script, in order: a key for a choice (or a function of
    the options giving one), the typed text for an entry (a wrong one is said and the
    entry waits for the next answer), ``{value: count}`` for a count, ``Shown.TAKE`` or
    ``Shown.BACK`` for lines shown, (number, PIN) for a supervisor's approval (a wrong
    one: the next). When the script ends, the cashier
    cancels whatever is asked next. The next step runs at once."""

    def __init__(self, pos, *answers) -> None:
        self.pos = pos
        self.answers = list(answers)
        self.asked: list[Asked] = []
        self.said: list[tuple[str, bool]] = []

    def _answers(self):
        while self.answers:
            yield self.answers.pop(0)

    def _next_answer(self):
        return next(self._answers(), None)

    def choose(self, title, options, then, *, typed=None, typed_hint="") -> None:
        asked = Asked("choose", title, list(options), flags={"typed_hint": typed_hint})
        self.asked.append(asked)
        key = self._next_answer()
        if key is None:
            return
        if isinstance(key, Typed):
            assert typed is not None, f"{title!r} takes no typed text"
            typed(key.text)
            return
        key = key(asked.options) if callable(key) else key
        assert key in asked.keys, (key, asked)
        then(key)

    def enter(self, title, then, **flags) -> None:
        asked = Asked("enter", title, flags=flags)
        self.asked.append(asked)
        for text in self._answers():
            problem = problem_with(then, text)
            if not problem:
                return
            asked.problems.append(problem)

    def count(self, title, denominations, currency, then, *, counts=None) -> None:
        options = [(d, currency.format(d)) for d in denominations]
        self.asked.append(Asked("count", title, options, flags={"counts": counts}))
        answer = self._next_answer()
        if answer is not None:
            then(answer)

    def show(self, title, lines, then, *, action, back=None, back_label="") -> None:
        flags = {"lines": list(lines), "action": action, "back_label": back_label}
        self.asked.append(Asked("show", title, flags=flags))
        answer = self._next_answer()
        if answer is None:
            return
        assert isinstance(answer, Shown), (answer, title)
        if answer is Shown.TAKE:
            then()
        elif back is not None:
            back()

    def approve(self, action, then) -> None:
        try:
            result = action(None)
        except ApprovalNeeded as need:
            asked = Asked("approval", need.action, flags={"category": need.category})
            self.asked.append(asked)
            for supervisor, code in self._answers():
                try:
                    approval = self.pos.approvals.approve(
                        need.category, self.pos.cashier, code, supervisor, need.action
                    )
                except PosError as exc:
                    asked.problems.append(exc.translated(_))
                    continue
                try:
                    result = action(approval)
                except PosError as exc:
                    self.say(exc.translated(_), error=True)
                    return
                then(result)
                return
            return
        except PosError as exc:
            self.say(exc.translated(_), error=True)
            return
        then(result)

    def say(self, text: str, *, error: bool = False) -> None:
        self.said.append((text, error))

    def next(self, step) -> None:
        step()

    def kinds(self) -> list[str]:
        return [a.kind for a in self.asked]


def journal(pos, kind):
    return [e["payload"] for e in read_entries(pos.db, types=(kind,))]


@pytest.fixture
def pos(terminal):
    """The shift open, Sari (cashier 1) signed in."""
    terminal.pos.sign_in("1", "1357")
    return terminal.pos


@pytest.fixture
def supervisor(terminal):
    """The shift open, Budi (supervisor 2) signed in."""
    terminal.pos.sign_in(*SUPERVISOR)
    return terminal.pos


def test_the_flows_import_no_kivy():
    modules = ["asker", "shift_menu", "customer_menu", "settings_menu"]
    code = (
        "import sys\n"
        + "".join(f"import terminal.ui.{m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kivy'))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[]"


# -- the shift menu ----------------------------------------------------------------------------
def test_cash_in_asks_the_amount_then_the_reason(pos):
    ask = ScriptedAsker(pos, "cash_in", "12,5", "50000", "float_top_up")
    ShiftMenu(pos, ask).open()
    menu, amount, reason = ask.asked
    assert (menu.kind, menu.title) == ("choose", "Shift and reports")
    assert menu.keys == ["cash_in", "cash_out", "no_sale", "x", "close", "send_now", "about"]
    assert (amount.kind, amount.title, amount.flags["hint"]) == ("enter", "Cash in: amount", "Rp 0")
    assert amount.problems == ["12,5 is not an amount"]  # more decimals than rupiah has
    assert (reason.kind, reason.title) == ("choose", "Reason")
    assert reason.options == [
        ("float_top_up", "Float top-up"),
        ("from_safe", "Cash from the safe"),
        ("correction", "Correcting a mistake"),
    ]
    assert ask.said == [("Cash in: Rp 50.000", False)]
    (move,) = journal(pos, "cash_in")
    assert (move["amount"], move["reason"], move["cashier"]) == (50000, "float_top_up", 1)
    assert len(pos.drawer.pulses) == 1


def test_cash_out_of_more_than_the_drawer_holds_is_refused(pos):
    ask = ScriptedAsker(pos, "cash_out", "50000", "bank_deposit")
    ShiftMenu(pos, ask).open()
    assert ask.asked[1].title == "Cash out: amount"
    assert ask.said == [("The drawer should not hold that much", True)]
    assert journal(pos, "cash_out") == [] and pos.drawer.pulses == []


def test_no_sale_asks_the_reason_then_the_supervisor(pos):
    ask = ScriptedAsker(pos, "no_sale", "check", ("2", "1111"), SUPERVISOR)
    ShiftMenu(pos, ask).open()
    assert ask.kinds() == ["choose", "choose", "approval"]
    reasons, approval = ask.asked[1:]
    assert reasons.title == "Open the drawer without a sale: why?"
    assert reasons.keys == list(NO_SALE_REASONS)
    assert approval.flags["category"] == "unpaid_orders"
    assert approval.problems == ["Wrong supervisor number or PIN"]
    assert ask.said == [("Drawer opened (no sale), journaled", False)]
    (entry,) = journal(pos, "no_sale")
    assert (entry["reason"], entry["asked_by"], entry["approved_by"]) == ("check", 1, 2)


def test_cash_in_and_cash_out_each_offer_their_own_reasons(pos):
    pos.shifts.cash_move("cash_in", 100000, "float_top_up")
    ask = ScriptedAsker(pos, "cash_out", "50000", "to_safe")
    ShiftMenu(pos, ask).open()
    reasons = ask.asked[2]
    assert reasons.keys == ["bank_deposit", "to_safe", "petty_cash", "supplier", "correction"]
    assert dict(reasons.options)["bank_deposit"] == "Bank deposit"
    assert ask.said == [("Cash out: Rp 50.000", False)]
    with pytest.raises(PosError, match="Choose a reason"):  # not a reason for cash in
        pos.shifts.cash_move("cash_in", 10000, "bank_deposit")
    with pytest.raises(PosError, match="Choose a reason"):
        pos.shifts.cash_move("cash_out", 10000, "float_top_up")
    assert [m["reason"] for m in journal(pos, "cash_out")] == ["to_safe"]


def test_the_shops_own_cash_reasons_are_offered_as_written(settings, clock):
    reasons = {"cash_in": ("float_top_up",), "cash_out": ("Parkir", "bank_deposit")}
    built = with_open_shift(
        build_terminal(
            dataclasses.replace(settings, cash_reasons=reasons),
            clock=clock,
            pin_params=FAST_TEST_PARAMS,
        ),
        opening_float=20000,
    )
    pos = built.pos
    pos.sign_in("1", "1357")
    ask = ScriptedAsker(pos, "cash_out", "2000", "Parkir")
    ShiftMenu(pos, ask).open()
    assert ask.asked[2].options == [("Parkir", "Parkir"), ("bank_deposit", "Bank deposit")]
    assert journal(pos, "cash_out")[0]["reason"] == "Parkir"
    ask = ScriptedAsker(pos, "cash_in", "1000", "float_top_up")
    ShiftMenu(pos, ask).open()
    assert ask.asked[2].keys == ["float_top_up"]


def test_x_report_is_shown_then_printed(pos):
    ask = ScriptedAsker(pos, "x", Shown.TAKE)
    ShiftMenu(pos, ask).open()
    shown = ask.asked[1]
    assert (shown.kind, shown.title, shown.flags["action"]) == ("show", "X report", "Print")
    lines = shown.flags["lines"]
    assert lines[1] == "X REPORT (no reset)" and any(line.startswith("Net sales") for line in lines)
    assert not any("Expected cash" in line for line in lines)  # a cashier's: the count stays blind
    assert ask.said == [("X report printed", False)]
    assert len(pos.printer.jobs) == 1 and len(journal(pos, "x_report")) == 1


def test_about_shows_the_terminal_its_configuration_and_the_journals_head(pos):
    pos.scan("8991002101111")
    sale = pos.pay_cash(10000).committed
    printed = len(pos.printer.jobs)
    ask = ScriptedAsker(pos, "about", Shown.TAKE)
    ShiftMenu(pos, ask).open()
    shown = ask.asked[1]
    assert (shown.kind, shown.title, shown.flags["action"]) == (
        "show",
        "About this terminal",
        "Close",
    )
    terminal, software, config, journal_line, fleet = shown.flags["lines"]
    assert terminal == "Terminal T01: Toko Demo Sejahtera"
    assert software.startswith("Software: pos-terminal")
    assert config.startswith("Configuration: version 1, applied ")
    assert config.endswith("(configuration file)")
    # the journal's head as receipts print it: the sale's entry is the last
    assert journal_line == f"Journal: {sale.journal_seq} {sale.journal_hash}"
    assert fleet == "Fleet: not set up"
    assert ask.said == [] and len(pos.printer.jobs) == printed  # looking prints nothing


def test_x_report_looked_at_and_not_printed_leaves_nothing(pos):
    ask = ScriptedAsker(pos, "x")  # shown, then closed (Esc)
    ShiftMenu(pos, ask).open()
    assert ask.kinds() == ["choose", "show"] and ask.said == []
    assert pos.printer.jobs == [] and journal(pos, "x_report") == []


def test_a_supervisor_checking_mid_shift_sees_the_expected_cash(supervisor):
    supervisor.shifts.cash_move("cash_in", 20000, "float_top_up")
    ask = ScriptedAsker(supervisor, "x")
    ShiftMenu(supervisor, ask).open()
    lines = ask.asked[1].flags["lines"]
    assert any(line.startswith("Expected cash") and line.endswith("Rp 20.000") for line in lines)


def test_close_by_blind_count_then_z_report_then_a_new_shift(terminal, pos):
    terminal.shifts.cash_move("cash_in", 20000, "float_top_up")
    closed = []
    ask = ScriptedAsker(pos, "close", {10000: 1, 5000: 1}, Shown.TAKE)
    ShiftMenu(pos, ask, on_closed=lambda: closed.append(pos.shift)).open()
    count, confirm = ask.asked[1:]
    assert (count.kind, count.title) == ("count", "Blind count: how many of each?")
    assert [value for value, _label in count.options] == list(pos.currency.denominations)
    assert (confirm.kind, confirm.title) == ("show", "Counted Rp 15.000: close the shift?")
    assert confirm.flags["lines"] == ["Rp 10.000 x 1 = Rp 10.000", "Rp 5.000 x 1 = Rp 5.000"]
    assert (confirm.flags["action"], confirm.flags["back_label"]) == (
        "Close the shift",
        "Back to the count",
    )
    assert ask.said == [
        ("Shift closed. Counted Rp 15.000, expected Rp 20.000, variance -Rp 5.000", True)
    ]
    assert closed == [None]  # called once, with the shift closed
    (close,) = journal(pos, "shift_close")
    assert (close["expected"], close["counted"], close["variance"]) == (20000, 15000, -5000)

    # no shift open: the menu offers opening one, and the Z report: a supervisor's
    ask = ScriptedAsker(pos, "z", ("1", "1357"), SUPERVISOR)
    ShiftMenu(pos, ask).open()
    assert ask.asked[0].keys == ["open", "z", "send_now", "about"]
    approval = ask.asked[1]
    assert (approval.kind, approval.title) == ("approval", "close the day (Z report)")
    assert approval.flags["category"] == CLOSE_DAY
    assert approval.problems == ["Wrong supervisor number or PIN"]  # a cashier's own PIN
    assert ask.said == [("Z report 1 printed", False)]
    (z,) = journal(pos, "z_report")
    assert (z["cashier"], z["asked_by"], z["approved_by"]) == (1, 1, 2)

    ask = ScriptedAsker(pos, "open", "100000")
    ShiftMenu(pos, ask).open()
    entry = ask.asked[1]
    assert (entry.title, entry.flags["hint"]) == ("Open the shift: count the opening float", "Rp 0")
    assert ask.said == [(f"Shift {pos.shift.id} open, float Rp 100.000", False)]
    assert journal(pos, "shift_open")[-1]["float"] == 100000


def test_the_opening_float_is_asked_when_no_shift_is_open(closed_terminal):
    pos = closed_terminal.pos
    pos.sign_in("1", "1357")
    ask = ScriptedAsker(pos, "500.000")
    ShiftMenu(pos, ask).open_shift()
    assert ask.kinds() == ["enter"] and ask.asked[0].problems == []
    assert ask.said == [(f"Shift {pos.shift.id} open, float Rp 500.000", False)]


def test_the_count_is_confirmed_before_the_shift_closes_and_can_go_back(pos):
    pos.shifts.cash_move("cash_in", 15000, "float_top_up")
    # Enter on the last denomination: the total is shown, nothing is closed yet
    ask = ScriptedAsker(pos, "close", {10000: 1})
    ShiftMenu(pos, ask).open()
    assert ask.kinds() == ["choose", "count", "show"]
    assert ask.asked[2].title == "Counted Rp 10.000: close the shift?"
    assert pos.shift is not None and journal(pos, "shift_close") == []
    # back to the count, as counted so far; a 5,000 found; then closed
    ask = ScriptedAsker(pos, "close", {10000: 1}, Shown.BACK, {10000: 1, 5000: 1}, Shown.TAKE)
    ShiftMenu(pos, ask).open()
    assert ask.kinds() == ["choose", "count", "show", "count", "show"]
    assert ask.asked[1].flags["counts"] is None and ask.asked[3].flags["counts"] == {10000: 1}
    assert ask.asked[4].title == "Counted Rp 15.000: close the shift?"
    assert ask.said == [
        ("Shift closed. Counted Rp 15.000, expected Rp 15.000, variance Rp 0", False)
    ]
    (close,) = journal(pos, "shift_close")
    assert close["counts"] == {"10000": 1, "5000": 1}


def test_an_empty_count_is_confirmed_as_such(pos):
    ask = ScriptedAsker(pos, "close", {}, Shown.TAKE)
    ShiftMenu(pos, ask).open()
    confirm = ask.asked[2]
    assert confirm.title == "Counted Rp 0: close the shift?"
    assert confirm.flags["lines"] == ["Nothing counted: the drawer is empty"]
    assert pos.shift is None


def test_a_supervisor_signed_in_closes_the_day_without_a_prompt(supervisor):
    supervisor.shifts.close({})
    ask = ScriptedAsker(supervisor, "z")
    ShiftMenu(supervisor, ask).open()
    assert ask.kinds() == ["choose"] and ask.said == [("Z report 1 printed", False)]
    (z,) = journal(supervisor, "z_report")
    assert z["cashier"] == 2 and "approved_by" not in z


def test_the_shop_may_let_any_cashier_close_the_day(settings, clock):
    approval = dataclasses.replace(settings.approval, close_day="cashier")
    built = with_open_shift(
        build_terminal(
            dataclasses.replace(settings, approval=approval),
            clock=clock,
            pin_params=FAST_TEST_PARAMS,
        )
    )
    pos = built.pos
    pos.sign_in("1", "1357")
    pos.shifts.close({})
    ask = ScriptedAsker(pos, "z")
    ShiftMenu(pos, ask).open()
    assert ask.kinds() == ["choose"] and ask.said == [("Z report 1 printed", False)]


def test_in_passkey_mode_a_supervisor_signs_in_to_close_the_day(settings, clock):
    approval = dataclasses.replace(settings.approval, mode="passkey")
    built = with_open_shift(
        build_terminal(
            dataclasses.replace(settings, approval=approval),
            clock=clock,
            pin_params=FAST_TEST_PARAMS,
        )
    )
    pos = built.pos
    pos.sign_in("1", "1357")
    pos.shifts.close({})
    ask = ScriptedAsker(pos, "z")
    ShiftMenu(pos, ask).open()
    assert ask.said == [("Closing the day is a supervisor's action: a supervisor signs in", True)]
    assert journal(pos, "z_report") == []
    pos.sign_out()
    pos.sign_in(*SUPERVISOR)
    ask = ScriptedAsker(pos, "z")
    ShiftMenu(pos, ask).open()
    assert ask.said == [("Z report 1 printed", False)]


def test_closing_when_no_shift_is_open_is_refused(closed_terminal):
    pos = closed_terminal.pos
    pos.sign_in("1", "1357")
    ask = ScriptedAsker(pos)
    ShiftMenu(pos, ask).close()
    assert ask.asked == [] and ask.said == [("No shift is open", True)]


# -- the customer menu -------------------------------------------------------------------------
def test_a_member_card_scanned_at_the_prompt_attaches_the_member(pos):
    changed = []
    ask = ScriptedAsker(pos, "MBR0001")
    CustomerMenu(pos, ask, on_customer=lambda: changed.append(pos.customer.name)).open()
    (prompt,) = ask.asked
    assert prompt.title == "Customer: scan the member card, or type phone or name"
    assert prompt.flags["letters"] and prompt.flags["accept_scans"]
    assert pos.customer.name == "Dewi Lestari" and changed == ["Dewi Lestari"]
    tier = pos.customers.tier_name(pos.customer)
    assert ask.said == [(f"Customer Dewi Lestari ({tier})", False)]


def test_nobody_found_the_cashier_adds_the_customer_with_approval(pos):
    ask = ScriptedAsker(pos, "add", " ", "Rina Wati", "081311112222", SUPERVISOR)
    CustomerMenu(pos, ask).open("Rina")
    assert ask.kinds() == ["choose", "enter", "enter", "approval"]
    offer, name, phone, approval = ask.asked
    assert (offer.title, offer.keys) == ("No customer found for Rina", ["add", "again"])
    assert (name.title, name.flags["value"], name.flags["letters"]) == (
        "New customer: name",
        "Rina",  # what was searched for
        True,
    )
    assert name.problems == ["A name, please"]
    assert (phone.title, phone.flags["value"]) == ("New customer: phone", "")
    assert approval.flags["category"] == CUSTOMERS
    assert pos.customer.name == "Rina Wati" and pos.customer.phone is not None
    (change,) = journal(pos, "customer_change")
    assert (change["action"], change["approved_by"]) == ("add", 2)


def test_a_phone_number_searched_fills_the_new_customers_phone(pos):
    ask = ScriptedAsker(pos, "add", "Rina Wati")
    CustomerMenu(pos, ask).open("0813 9999 8888")
    _offer, name, phone = ask.asked
    assert name.flags["value"] == ""  # not offered as a name
    assert (phone.title, phone.flags["value"]) == ("New customer: phone", "0813 9999 8888")
    assert pos.customer is None and journal(pos, "customer_change") == []  # cancelled


def test_a_phone_typed_at_the_customers_menu_finds_not_picks(pos):
    """With a customer on the sale, the menu takes a phone or a name: what is typed
    there searches (here a number nobody has), it never picks an option by its digit."""
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    ask = ScriptedAsker(pos, Typed("0811"), "add")
    CustomerMenu(pos, ask).open()
    menu, offer, name = ask.asked
    assert menu.flags["typed_hint"] == "Or type a phone or name to find another customer"
    assert offer.title == "No customer found for 0811"
    assert name.title == "New customer: name"
    assert pos.customer.name == "Dewi Lestari"  # nothing edited, nothing detached


def test_search_again_when_nobody_is_found(pos):
    ask = ScriptedAsker(pos, "again", "MBR0001")
    CustomerMenu(pos, ask).open("Nobody")
    assert ask.kinds() == ["choose", "enter"]
    assert pos.customer.name == "Dewi Lestari"


def test_several_found_the_cashier_picks_one(pos):
    for name in ("Rina Wati", "Rina Sari"):
        approval = pos.approvals.approve(CUSTOMERS, pos.cashier, "2580", "2")
        pos.customers.add(name, None, approval=approval)
    ask = ScriptedAsker(pos, lambda options: next(k for k, label in options if "Sari" in label))
    CustomerMenu(pos, ask).open("rina")
    (which,) = ask.asked
    assert which.title == "Which customer?" and len(which.options) == 2
    assert pos.customer.name == "Rina Sari"


def test_the_sale_customer_edited_then_deleted(pos):
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    phone = pos.customer.phone
    changed = []
    ask = ScriptedAsker(pos, "edit", "Dewi L.", phone, SUPERVISOR)
    CustomerMenu(pos, ask, on_customer=lambda: changed.append("edit")).open()
    menu, name, phone_entry, _approval = ask.asked
    assert menu.title == "Customer Dewi Lestari"
    assert menu.keys == ["edit", "delete", "detach", "other"]
    assert (name.title, name.flags["value"]) == ("Edit customer: name", "Dewi Lestari")
    assert (phone_entry.title, phone_entry.flags["value"]) == ("Edit customer: phone", phone)
    assert pos.customer.name == "Dewi L." and changed == ["edit"]

    ask = ScriptedAsker(pos, "delete", SUPERVISOR)
    CustomerMenu(pos, ask, on_customer=lambda: changed.append("delete")).open()
    assert ask.said == [("Customer deleted: personal data erased", False)]
    assert pos.customer is None and changed == ["edit", "delete"]
    assert [c["action"] for c in journal(pos, "customer_change")] == ["edit", "delete"]
    assert pos.customers.find("MBR0001") == []


def test_not_this_customer_then_another_one(pos):
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    ask = ScriptedAsker(pos, "detach")
    CustomerMenu(pos, ask).open()
    assert pos.customer is None and ask.said == []
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    ask = ScriptedAsker(pos, "other", "MBR0001")
    CustomerMenu(pos, ask).open()
    assert ask.kinds() == ["choose", "enter"] and pos.customer.name == "Dewi Lestari"


# -- the passkey settings ----------------------------------------------------------------------
def test_only_a_supervisor_opens_the_passkey_settings(pos):
    ask = ScriptedAsker(pos, "unpaid_orders")
    PasskeySettings(pos, ask).open()
    assert ask.asked == [] and ask.said == [("Only a supervisor can change the passkeys", True)]
    assert "unpaid_orders" in pos.approvals.policy.enabled


def test_a_supervisor_switches_a_category_off_and_on(supervisor):
    pos = supervisor
    ask = ScriptedAsker(pos, "unpaid_orders")
    PasskeySettings(pos, ask).open()
    (menu,) = ask.asked
    assert menu.title == "Passkeys: switch a category on or off"
    assert menu.keys == list(CATEGORIES)  # supervisor mode: no codes to change
    assert dict(menu.options)["unpaid_orders"] == "Unpaid orders: on"
    assert ask.said == [("Passkey Unpaid orders: off", False)]
    assert "unpaid_orders" not in pos.approvals.policy.enabled

    ask = ScriptedAsker(pos, "unpaid_orders")
    PasskeySettings(pos, ask).open()
    assert dict(ask.asked[0].options)["unpaid_orders"] == "Unpaid orders: off"
    assert ask.said == [("Passkey Unpaid orders: on", False)]
    changes = journal(pos, "passkey_change")
    assert [(c["enabled"], c["code_changed"], c["by"]) for c in changes] == [
        (False, False, 2),
        (True, False, 2),
    ]


@pytest.fixture
def passkey_supervisor(settings, clock):
    settings = dataclasses.replace(
        settings, approval=dataclasses.replace(settings.approval, mode="passkey")
    )
    built = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    built.pos.sign_in(*SUPERVISOR)
    return built.pos


def test_in_passkey_mode_switching_on_asks_the_new_code(passkey_supervisor):
    pos = passkey_supervisor
    ask = ScriptedAsker(pos, "discounts")
    PasskeySettings(pos, ask).open()
    (menu,) = ask.asked
    assert menu.keys == [*CATEGORIES, *(f"code:{c}" for c in CATEGORIES)]
    assert dict(menu.options)["code:discounts"] == "New code: Discounts"
    assert ask.said == [("Passkey Discounts: off", False)]  # off: no code asked

    ask = ScriptedAsker(pos, "discounts", "123", "123456", "135792")
    PasskeySettings(pos, ask).open()
    code = ask.asked[1]
    assert (code.title, code.flags["secret"]) == ("New 6-digit passkey for Discounts", True)
    assert code.problems == [
        "A passkey is exactly 6 digits",
        "This passkey is too easy to guess: choose another",
    ]
    assert ask.said == [("Passkey Discounts: on", False)]
    pos.approvals.approve("discounts", pos.cashier, "135792")  # the new code approves

    ask = ScriptedAsker(pos, "code:customers", "246813")
    PasskeySettings(pos, ask).open()
    assert ask.said == [("Passkey Customers: on", False)]  # stays on, with the new code
    pos.approvals.approve(CUSTOMERS, pos.cashier, "246813")
    assert [c["code_changed"] for c in journal(pos, "passkey_change")] == [False, True, True]
