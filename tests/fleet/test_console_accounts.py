"""Accounts in the console, at the HTTP level: a fleet admin adds, disables, enables and
sets passwords with the audit trail beside them; everyone changes their own password and
turns on a second factor; nobody else reaches either, even with a crafted request."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from fleet.config import ConsoleSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.models import ConsoleAudit
from tests.fleet.console_client import csrf_of, signed_in

PASSWORD = "a long pass phrase"
FAST = accounts.FAST_TEST_COST


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def app(fleet_db):
    for name, role, stores in (
        ("ani", "admin", None),
        ("oka", "owner", None),
        ("made", "manager", ["S1"]),
        ("rina", "auditor", None),
    ):
        accounts.add_account(fleet_db, name, role, PASSWORD, _now(), stores=stores, cost=FAST)
    return create_app(fleet_db, ConsoleSettings(secure_cookies=False), cost=FAST)


def _cannot_sign_in(app, name: str, password: str) -> bool:
    client = TestClient(app)
    answer = client.post(
        "/login",
        data={"csrf": csrf_of(client.get("/login").text), "name": name, "password": password},
        follow_redirects=False,
    )
    return answer.status_code == 401


def _audit_text(db) -> str:
    return "\n".join(f"{a.action} {a.detail}" for a in ConsoleAudit.select().bind(db))


def test_only_a_fleet_admin_reaches_the_accounts(app, fleet_db):
    for name in ("oka", "made", "rina"):
        client = signed_in(app, name, PASSWORD)
        page = client.get("/sales" if name != "rina" else "/reports")
        assert ">Accounts<" not in page.text, name
        assert client.get("/accounts").status_code == 404, name
        token = csrf_of(page.text)
        for path in ("/accounts/add", "/accounts/ani/disable", "/accounts/ani/password"):
            answer = client.post(
                path,
                data={"csrf": token, "name": "x", "role": "admin", "password": "p" * 20},
            )
            assert answer.status_code == 403, (name, path)
    assert accounts.get_account(fleet_db, "x") is None
    assert not accounts.get_account(fleet_db, "ani").disabled


def test_an_admin_adds_an_account_and_bad_input_keeps_the_form(app, fleet_db):
    admin = signed_in(app, "ani", PASSWORD)
    page = admin.get("/accounts")
    assert page.status_code == 200 and 'data-account="made"' in page.text
    token = csrf_of(page.text)
    form = {"csrf": token, "name": "dewi", "role": "manager", "password": "toko dewi 2026"}
    no_store = admin.post("/accounts/add", data=form)
    assert no_store.status_code == 422
    assert "a store manager sees their stores" in no_store.text
    assert 'value="dewi"' in no_store.text  # the form kept
    short = admin.post("/accounts/add", data={**form, "stores": "S2", "password": "short"})
    assert short.status_code == 422 and "at least 12 characters" in short.text
    taken = admin.post("/accounts/add", data={**form, "name": "made", "stores": "S2"})
    assert taken.status_code == 422 and "exists" in taken.text
    assert accounts.get_account(fleet_db, "dewi") is None

    added = admin.post("/accounts/add", data={**form, "stores": "S2, S3", "language": "id"})
    assert added.status_code == 200 and 'data-account="dewi"' in added.text
    dewi = accounts.get_account(fleet_db, "dewi")
    assert (dewi.role, accounts.account_stores(dewi), dewi.language) == (
        "manager",
        frozenset({"S2", "S3"}),
        "id",
    )
    assert "Penjualan saat ini" in signed_in(app, "dewi", "toko dewi 2026").get("/sales").text
    trail = _audit_text(fleet_db)
    assert "account added dewi (manager; stores S2, S3)" in trail
    assert "toko dewi 2026" not in trail


def test_a_disabled_account_is_signed_out_and_refused_until_enabled(app, fleet_db):
    made = signed_in(app, "made", PASSWORD)
    assert made.get("/sales").status_code == 200
    admin = signed_in(app, "ani", PASSWORD)
    token = csrf_of(admin.get("/accounts").text)
    themselves = admin.post("/accounts/ani/disable", data={"csrf": token})
    assert themselves.status_code == 422 and "your own account" in themselves.text
    assert admin.post("/accounts/nobody/disable", data={"csrf": token}).status_code == 404
    admin.post("/accounts/made/disable", data={"csrf": token})
    assert made.get("/sales", follow_redirects=False).status_code == 303  # to the sign-in
    assert _cannot_sign_in(app, "made", PASSWORD)
    admin.post("/accounts/made/enable", data={"csrf": token})
    assert signed_in(app, "made", PASSWORD).get("/sales").status_code == 200
    trail = _audit_text(fleet_db)
    assert "account disable made" in trail and "account enable made" in trail


def test_an_admin_sets_a_new_password(app, fleet_db):
    admin = signed_in(app, "ani", PASSWORD)
    token = csrf_of(admin.get("/accounts").text)
    weak = admin.post("/accounts/rina/password", data={"csrf": token, "password": "aaaaaaaaaaaa"})
    assert weak.status_code == 422 and "easy to guess" in weak.text
    admin.post("/accounts/rina/password", data={"csrf": token, "password": "rina's new one!"})
    assert _cannot_sign_in(app, "rina", PASSWORD)
    signed_in(app, "rina", "rina's new one!")
    assert "rina's new one!" not in _audit_text(fleet_db)


def test_everyone_changes_their_own_password(app, fleet_db):
    rina = signed_in(app, "rina", PASSWORD)  # an auditor: reads only, but her password
    page = rina.get("/account")
    assert page.status_code == 200 and "data-own-password" in page.text
    token = csrf_of(page.text)
    change = {"csrf": token, "current": PASSWORD, "new": "another pass phrase"}
    change["repeat"] = change["new"]
    wrong = rina.post("/account/password", data={**change, "current": "not it at all"})
    assert wrong.status_code == 422 and "current password is not right" in wrong.text
    differ = rina.post("/account/password", data={**change, "repeat": "another pass phrasE"})
    assert differ.status_code == 422 and "differ" in differ.text
    assert _cannot_sign_in(app, "rina", "another pass phrase")
    done = rina.post("/account/password", data=change, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert rina.get("/reports", follow_redirects=False).status_code == 303  # signed out
    assert _cannot_sign_in(app, "rina", PASSWORD)
    signed_in(app, "rina", "another pass phrase")
    assert "another pass phrase" not in _audit_text(fleet_db)
    assert "own password changed" in _audit_text(fleet_db)


def test_a_second_factor_is_kept_only_once_its_code_is_right(app, fleet_db):
    made = signed_in(app, "made", PASSWORD)
    page = made.get("/account").text
    assert "data-totp>off<" in page
    secret = re.search(r'name="secret" value="([A-Z2-7=]+)"', page)[1]
    token = csrf_of(page)
    wrong = made.post("/account/totp", data={"csrf": token, "secret": secret, "code": "000000"})
    assert wrong.status_code == 422 and "not the authenticator" in wrong.text
    forged = made.post("/account/totp", data={"csrf": token, "secret": "AAAA", "code": "1"})
    assert forged.status_code == 422 and "start again" in forged.text
    assert accounts.get_account(fleet_db, "made").totp_secret == ""
    code = accounts.totp_now(secret, _now())
    on = made.post("/account/totp", data={"csrf": token, "secret": secret, "code": code})
    assert on.status_code == 200 and "The second factor is on." in on.text
    assert accounts.get_account(fleet_db, "made").totp_secret == secret
    assert _cannot_sign_in(app, "made", PASSWORD)  # without a code now
    assert "own second factor set" in _audit_text(fleet_db)
    assert secret not in _audit_text(fleet_db)


def test_the_audit_trail_shows_one_accounts_events(app, fleet_db):
    signed_in(app, "oka", PASSWORD)
    _cannot_sign_in(app, "made", "a wrong one")
    admin = signed_in(app, "ani", PASSWORD)
    everyone = admin.get("/accounts").text
    assert "sign-in refused" in everyone and "signed in" in everyone
    only = admin.get("/accounts?account=made").text
    trail = only[only.index("data-audit") :]
    assert "sign-in refused" in trail and "<td>oka</td>" not in trail
