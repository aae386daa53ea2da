"""What a menu flow (shift, customer, passkey settings) needs from the screen: someone to
ask the cashier things and to tell them the outcome. The flows hold the steps (what is
asked, what comes next, which service call is made with what); the asker holds how it
looks. On the terminal it is ``terminal.ui.panels.PanelAsker`` (prompts over the
screen); a test answers with a script. No Kivy here, nor in the flows.

Every question is answered through a callback, because the cashier answers later: the
window keeps running meanwhile. A question that is cancelled (Esc) calls nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from terminal.core.approval import Approval
from terminal.core.errors import PosError
from terminal.core.money import Currency
from terminal.i18n import _

T = TypeVar("T")


class Asker(Protocol):
    def choose(
        self,
        title: str,
        options: Sequence[tuple[str, str]],
        then: Callable[[str], None],
        *,
        typed: Callable[[str], None] | None = None,
        typed_hint: str = "",
    ) -> None:
        """One of ``options`` (key, label); ``then(key)`` once the cashier picked it.
        ``typed``: the menu also takes text (``typed_hint`` says what); typed and sent,
        it goes to ``typed(text)`` instead, and digits never pick an option."""

    def enter(
        self,
        title: str,
        then: Callable[[str], str | None],
        *,
        value: str = "",
        hint: str = "",
        secret: bool = False,
        letters: bool = False,
        accept_scans: bool = False,
        money: bool = False,
        max_length: int = 40,
    ) -> None:
        """Typed text (digits, unless ``letters``; at most ``max_length`` characters),
        starting from ``value``. ``then(text)``
        returns None when the answer is taken, or what is wrong with it: the question
        stays, says so, and waits for another answer. What ``then`` raises is said the
        same way (see :func:`problem_with`). ``secret``: shown as dots, and emptied after
        a wrong answer; ``accept_scans``: a scan answers it; ``money``: an amount, shown
        as the currency is while it is typed."""

    def count(
        self,
        title: str,
        denominations: Sequence[int],
        currency: Currency,
        then: Callable[[dict[int, int]], None],
        *,
        counts: dict[int, int] | None = None,
    ) -> None:
        """How many of each note and coin (a blind count); ``then({value: count})``.
        ``counts``: what was counted before (back from the count's confirmation)."""

    def show(
        self,
        title: str,
        lines: Sequence[str],
        then: Callable[[], None],
        *,
        action: str,
        back: Callable[[], None] | None = None,
        back_label: str = "",
    ) -> None:
        """Lines to read (a report, a count to confirm) and one thing to do with them:
        ``then()`` once the cashier takes ``action`` (its button, or the pay key; never
        Enter, which a cashier may be pressing to get through a count). Cancelled (Esc):
        ``back()`` when given (its button says ``back_label``), else nothing."""

    def approve(self, action: Callable[[Approval | None], T], then: Callable[[T], None]) -> None:
        """Run ``action(None)``; when the shop's rules want a supervisor's approval, ask
        for it and run ``action(approval)``. ``then(result)`` when it ran; a refusal is
        said (and ``then`` not called)."""

    def say(self, text: str, *, error: bool = False) -> None:
        """The outcome, or a refusal (``error``), on the screen."""

    def next(self, step: Callable[[], None]) -> None:
        """Run ``step`` (the next question) once the question being answered has closed."""


def problem_with(then: Callable[[str], str | None], text: str) -> str | None:
    """What is wrong with ``text`` as the answer to an entry: ``then``'s own message, a
    refusal it raised, or (an amount that does not parse) that it is not an amount."""
    try:
        return then(text)
    except PosError as exc:
        return exc.translated(_)
    except (ArithmeticError, ValueError):  # an amount that does not parse
        return _("{text} is not an amount").format(text=text)
