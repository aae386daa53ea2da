"""The first boot's patience: a fleet that cannot be reached yet (the shop's network comes
up after the terminal) or cannot certify yet is asked again, with growing waits, for
``retry_for`` seconds; a broker that is not the fleet's, or a refusal, is final at once."""

from __future__ import annotations

import pytest

from provisioning import firstboot
from terminal.core import enrollment_protocol as ep
from terminal.fleet.enroll import EnrollError
from tests.provisioning.test_bundle_and_card import a_bundle

ENROLLED = ep.EnrollAnswer(result="enrolled", terminal_id="T07")
NOT_YET = ep.EnrollAnswer(result="refused", reason="not available", message="CA locked")
USED = ep.EnrollAnswer(result="refused", reason="token used", message="by another device")


class Fleet:
    def __init__(self, *outcomes) -> None:
        self.outcomes = list(outcomes)
        self.asked = 0

    def __call__(self, *_args, **_kwargs):
        self.asked += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def asking(monkeypatch, fleet: Fleet, retry_for: float):
    monkeypatch.setattr(firstboot, "ask", fleet)
    waits: list[float] = []
    said: list[str] = []
    answer = firstboot._ask(a_bundle(), None, 1.0, retry_for, said.append, waits.append)
    return answer, waits, said


def test_an_unreachable_fleet_is_asked_again_with_growing_waits(monkeypatch):
    fleet = Fleet(
        EnrollError("the fleet's broker x:8884 is not reachable"),
        EnrollError("no answer from the fleet within 1 s"),
        NOT_YET,
        ENROLLED,
    )
    answer, waits, said = asking(monkeypatch, fleet, retry_for=600)
    assert answer == ENROLLED and fleet.asked == 4
    assert waits == [5.0, 10.0, 20.0]
    assert any("trying again in 5 s" in line for line in said)


def test_a_refusal_or_another_fleets_broker_is_final_at_once(monkeypatch):
    answer, waits, _said = asking(monkeypatch, Fleet(USED), retry_for=600)
    assert answer == USED and waits == []
    with pytest.raises(EnrollError, match="not the fleet's"):
        asking(monkeypatch, Fleet(EnrollError("the broker at x is not the fleet's")), 600)


def test_without_patience_the_first_failure_is_the_answer(monkeypatch):
    with pytest.raises(EnrollError, match="not reachable"):
        asking(monkeypatch, Fleet(EnrollError("x is not reachable")), retry_for=0)
    answer, waits, _said = asking(monkeypatch, Fleet(NOT_YET), retry_for=0)
    assert answer == NOT_YET and waits == []
