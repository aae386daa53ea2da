"""Who closes the day (the Z report): a supervisor's action by default (issue 12)."""

import pytest

from terminal.core.approval import (
    CLOSE_DAY,
    CLOSE_DAY_ACTION,
    PAID_ORDERS,
    PASSKEY_MODE,
    SUPERVISOR_MODE,
    Approval,
    ApprovalNeeded,
    close_day_approval,
)
from terminal.core.errors import PosError


def rule(approval=None, *, close_day="supervisor", is_supervisor=False, mode=SUPERVISOR_MODE):
    return close_day_approval(approval, close_day=close_day, is_supervisor=is_supervisor, mode=mode)


def test_a_cashier_needs_a_supervisors_approval_used_once():
    with pytest.raises(ApprovalNeeded) as asked:
        rule()
    assert (asked.value.category, asked.value.action) == (CLOSE_DAY, CLOSE_DAY_ACTION)
    approval = Approval(CLOSE_DAY, asked_by=1, approved_by=2)
    assert rule(approval) is approval and approval.spent
    with pytest.raises(ApprovalNeeded):
        rule(approval)  # spent
    with pytest.raises(ApprovalNeeded):  # another category's approval is not this one
        rule(Approval(PAID_ORDERS, asked_by=1, approved_by=2))


def test_a_supervisor_signed_in_closes_it_and_a_shop_may_let_anyone():
    assert rule(is_supervisor=True) is None
    assert rule(close_day="cashier") is None
    assert rule(close_day="cashier", mode=PASSKEY_MODE) is None


def test_in_passkey_mode_no_passkey_stands_for_it():
    with pytest.raises(PosError, match="a supervisor signs in") as refused:
        rule(mode=PASSKEY_MODE)
    assert not isinstance(refused.value, ApprovalNeeded)
    assert rule(mode=PASSKEY_MODE, is_supervisor=True) is None
