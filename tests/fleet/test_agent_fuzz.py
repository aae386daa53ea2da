"""The agent's inbound handler (``down/ack``) fuzzed: random bytes, wrong types, huge and
contradictory acknowledgements are refused or bounded, never a crash; the mark never
goes down nor past the journal's head, and the send cursor never goes back past it."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal.config import parse_settings
from terminal.core import fleet_protocol as fp
from terminal.fleet.agent import Agent
from terminal.services.bootstrap import build_terminal
from terminal.store import outbox
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import load_doc, with_open_shift

SHARED = [HealthCheck.function_scoped_fixture]  # one agent for every example, on purpose


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(tmp_path_factory.mktemp("fuzz") / "var")
    built = with_open_shift(build_terminal(parse_settings(doc), pin_params=FAST_TEST_PARAMS))
    pos = built.pos
    pos.sign_in("1", "1357")
    for _ in range(5):
        pos.scan("8991002101111")
        pos.pay_cash(10000)
    outbox.set_mark(pos.db, 3)  # the fleet holds 3 of its entries
    return Agent(pos.settings, pos.db)


def check(agent: Agent, before: int) -> None:
    assert before <= agent.mark <= agent.head
    assert outbox.mark(agent.db) == agent.mark
    assert agent.cursor >= agent.mark + 1


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=3000))
def test_random_bytes_on_down_ack_are_ignored(agent, data):
    before = agent.mark
    agent._on_ack(data)
    check(agent, before)


acks = st.builds(
    fp.Ack,
    acked=st.integers(min_value=0, max_value=2**62),
    resend_from=st.none() | st.integers(min_value=1, max_value=2**62),
    reason=st.text(max_size=200),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ack=acks)
def test_any_well_formed_ack_keeps_the_mark_within_the_journal(agent, ack):
    before = agent.mark
    agent._on_ack(fp.encode(ack))
    check(agent, before)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_wrong_types_are_refused(agent, value):
    before = agent.mark
    agent._on_ack(json.dumps({"acked": value, "resend_from": value}).encode())
    check(agent, before)
