"""The console's access and security, at the HTTP level (Starlette's TestClient), on SQLite
and PostgreSQL: two stores with sales (a real terminal's journal ingested for one, central
rows built by :class:`fleet.central.CentralRows` for the other), an account of each role,
and what each may see and do: another store's data never shows, a read-only role cannot
post a change, CSRF, sessions, the login throttle under 1,000 guesses, TOTP, headers,
open redirects and the audit."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from fleet.central import CentralRows
from fleet.config import ConsoleSettings
from fleet.console import accounts, sales_now
from fleet.console.app import create_app
from fleet.console.web import COOKIE, action, money
from fleet.db import write_transaction
from fleet.models import Alert, ConsoleAccount, ConsoleAudit, ConsoleSession, ConsoleThrottle
from fleet.registry import register_terminal
from terminal.core import fleet_protocol as fp
from tests.fleet.test_central import ingest_days

# 19:00 in Jakarta on the demo shop's second day (naive UTC, as the console's clock gives)
NOW = datetime(2026, 11, 24, 12, 0, 0)
STORE_A, STORE_B = "Minimarket Sari", "Toko Budi"
A_SECOND, B_TERMINAL = "SARI02", "BUDI07"
B_PAID, B_LATER = 987650, 424240  # store B's sale, and one made while a manager watches
A_LATER = 313130
B_ALERT = "budi-secret-alert"
PASSWORD = "correct horse battery"
ACCOUNTS = {  # name: (role, stores)
    "root.admin": ("admin", None),
    "owner.all": ("owner", None),
    "owner.budi": ("owner", [STORE_B]),
    "mgr.sari": ("manager", [STORE_A]),
    "audit.one": ("auditor", None),
}
HTTPS = "https://testserver"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _pem() -> bytes:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def add_sale(db, terminal_id: str, store: str, seq: int, paid: int, sku: str, at: datetime):
    """One sale of ``terminal_id``, as the ingest would build its central rows."""
    payload = {
        "number": seq,
        "total": paid,
        "currency": "IDR",
        "cashier": 1,
        "shift": 1,
        "lines": [{"sku": sku, "quantity": "1", "unit_price": paid, "amount": paid}],
        "tenders": [{"kind": "cash", "amount": paid}],
        "taxes": [],
    }
    entry = fp.Entry(
        epoch=1,
        seq=seq,
        terminal_id=terminal_id,
        key_id="0" * 16,
        type="sale",
        ts=at.isoformat() + "+00:00",
        grand_total=paid,
        payload_json=json.dumps(payload),
        prev_hash="0" * 64,
        hash="0" * 64,
        signature="0" * 128,
    )
    rows = CentralRows(terminal_id, store, "Asia/Jakarta")
    assert rows.add(entry, payload) is None
    with write_transaction(db):
        rows.flush(db)


@pytest.fixture
def fleet(fleet_db, ingest, shop_days):
    """Store A: the demo shop's terminal (its journal ingested) and a second terminal;
    store B: one terminal with a sale today and an open alert."""
    ingest_days(fleet_db, ingest, shop_days, 100, timezone="Asia/Jakarta")
    for tid, store in ((A_SECOND, STORE_A), (B_TERMINAL, STORE_B)):
        register_terminal(
            fleet_db, tid, store=store, group="g", public_key_pem=_pem(), timezone="Asia/Jakarta"
        )
    add_sale(fleet_db, B_TERMINAL, STORE_B, 1, B_PAID, "RAHASIA-BUDI", NOW - timedelta(hours=2))
    for tid, detail in ((B_TERMINAL, B_ALERT), (A_SECOND, "sari-visible-alert")):
        Alert.insert(
            terminal_id=tid, kind="paper_out", detail=detail, at=NOW, first_at=NOW
        ).execute(fleet_db)
    for name, (role, stores) in ACCOUNTS.items():
        accounts.add_account(
            fleet_db, name, role, PASSWORD, NOW, stores=stores, cost=accounts.FAST_TEST_COST
        )
    return fleet_db


@pytest.fixture
def clock():
    return Clock()


def make_app(db, clock, **settings):
    return create_app(
        db,
        ConsoleSettings(**settings),
        clock=clock,
        cost=accounts.FAST_TEST_COST,
        live_every=0.01,
    )


@pytest.fixture
def app(fleet, clock):
    return make_app(fleet, clock)


def client_of(app, address: str = "192.0.2.10") -> TestClient:
    return TestClient(app, base_url=HTTPS, client=(address, 50000), follow_redirects=False)


def form_token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)


def log_in(client, name, password=PASSWORD, *, code="", next_="/", headers=None):
    token = form_token(client.get("/login").text)
    form = {"csrf": token, "name": name, "password": password, "code": code, "next": next_}
    return client.post("/login", data=form, headers=headers)


def signed_in(app, name, address: str = "192.0.2.10") -> TestClient:
    client = client_of(app, address)
    response = log_in(client, name)
    assert response.status_code == 303, response.text
    assert client.cookies.get(COOKIE)
    return client


def session_csrf(db, client) -> str:
    digest = accounts.token_hash(client.cookies.get(COOKIE))
    query = ConsoleSession.select(ConsoleSession.csrf).where(ConsoleSession.token_hash == digest)
    return query.bind(db).scalar()


def b_traces() -> list[str]:
    """What of store B may never show to a viewer who does not see it."""
    return [
        STORE_B,
        B_TERMINAL,
        B_ALERT,
        "RAHASIA-BUDI",
        money(B_PAID, "IDR"),
        money(B_LATER, "IDR"),
        str(B_PAID),
    ]


def assert_nothing_of_b(html: str) -> None:
    for trace in b_traces():
        assert trace not in html, trace


def assert_a_shown(html: str) -> None:
    assert "T01" in html and A_SECOND in html


# -- who sees what --------------------------------------------------------------------------------
def test_a_store_manager_gets_nothing_of_another_store(app, fleet):
    client = signed_in(app, "mgr.sari")
    page = client.get("/terminals")
    assert page.status_code == 200
    assert_a_shown(page.text)
    assert "sari-visible-alert" in page.text
    assert_nothing_of_b(page.text)

    sales = client.get("/sales")
    assert sales.status_code == 200
    assert f'data-store="{STORE_A}"' in sales.text and "T01" in sales.text
    assert_nothing_of_b(sales.text)

    # the store in the URL changed, by hand or in the filter's form
    unknown = client.get("/terminals", params={"store": "Nowhere"})
    assert unknown.status_code == 404
    for store in (STORE_B, STORE_B.lower(), STORE_B + " ", " " + STORE_B, STORE_B.upper()):
        response = client.get("/terminals", params={"store": store})
        assert response.status_code == 404, store
        assert_nothing_of_b(response.text)
        assert response.text == unknown.text  # not even that it exists
    # the store given twice, either way round: never B's rows
    for stores in ([STORE_A, STORE_B], [STORE_B, STORE_A]):
        response = client.get("/terminals", params=[("store", s) for s in stores])
        assert response.status_code in (200, 404)
        assert_nothing_of_b(response.text)
    # a filter on its own store works
    own = client.get("/terminals", params={"store": STORE_A})
    assert own.status_code == 200
    assert_a_shown(own.text)
    assert_nothing_of_b(own.text)
    # "Sales now" takes no store from the request
    for params in ({"store": STORE_B}, {"stores": STORE_B}, {"terminal": B_TERMINAL}):
        response = client.get("/sales", params=params)
        assert response.status_code == 200
        assert_nothing_of_b(response.text)
    # a part of the console the role does not see is as absent as another's store
    for path in ("/config", "/accounts"):
        assert client.get(path).status_code == 404


def test_an_owner_limited_to_some_stores_sees_only_those(app, fleet):
    client = signed_in(app, "owner.budi")
    page = client.get("/terminals")
    assert page.status_code == 200
    assert B_TERMINAL in page.text and B_ALERT in page.text
    assert "T01" not in page.text and A_SECOND not in page.text
    assert "sari-visible-alert" not in page.text and STORE_A not in page.text
    assert client.get("/terminals", params={"store": STORE_A}).status_code == 404
    sales = client.get("/sales")
    assert money(B_PAID, "IDR") in sales.text
    assert STORE_A not in sales.text and "T01" not in sales.text


@pytest.mark.parametrize("name", ["root.admin", "owner.all"])
def test_an_admin_and_an_unlimited_owner_see_every_store(app, fleet, name):
    client = signed_in(app, name)
    page = client.get("/terminals")
    assert_a_shown(page.text)
    assert B_TERMINAL in page.text and B_ALERT in page.text
    only_b = client.get("/terminals", params={"store": STORE_B})
    assert only_b.status_code == 200
    assert B_TERMINAL in only_b.text and "T01" not in only_b.text
    sales = client.get("/sales")
    assert f'data-store="{STORE_A}"' in sales.text and f'data-store="{STORE_B}"' in sales.text
    assert money(B_PAID, "IDR") in sales.text


def test_an_auditor_sees_no_sales_nor_terminals(app, fleet):
    client = signed_in(app, "audit.one")
    for path in ("/sales", "/terminals", f"/terminals?store={STORE_B}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert_nothing_of_b(response.text)
        # (a form's random token may hold the letters T01 by chance: values are left out)
        assert "T01" not in re.sub(r'value="[^"]*"', "", response.text)
    assert client.get("/sales/live").status_code == 401


def test_the_live_stream_of_a_manager_never_carries_another_store(app, fleet, monkeypatch):
    """While a store manager watches "Sales now": the stream sends their section at once,
    then a sale in store B changes nothing of it, a sale in their store comes as an update
    without B's figures, and when
    the session ends (signed out in another tab) the stream says so and stops."""
    client = signed_in(app, "mgr.sari")
    original = sales_now.today_version
    calls = []

    def watched(db, viewer, now):
        calls.append(viewer.name)
        n = len(calls)
        if n == 2:
            add_sale(db, B_TERMINAL, STORE_B, 2, B_LATER, "RAHASIA-BUDI", NOW)
        elif n == 3:
            add_sale(db, A_SECOND, STORE_A, 1, A_LATER, "KOPI-KPL", NOW)
        elif n >= 4:
            ConsoleSession.delete().execute(db)
        if n > 50:
            raise RuntimeError("the stream did not stop")
        return original(db, viewer, now)

    monkeypatch.setattr(sales_now, "today_version", watched)
    with client.stream("GET", "/sales/live") as response:
        assert response.status_code == 200
        body = "".join(response.iter_text())
    assert set(calls) == {"mgr.sari"}
    # the section at the stream's first look, then once for the sale in their store (the
    # sale in B changed nothing of theirs: no update for it)
    assert body.count("event: update") == 2
    last = body.split("event: update")[-1]
    assert money(A_LATER, "IDR") in last and f'data-terminal="{A_SECOND}"' in last
    assert_nothing_of_b(body)
    assert body.rstrip().endswith("event: signed-out\ndata:")


# -- changes: roles and CSRF ----------------------------------------------------------------------
@pytest.fixture
def change_app(fleet, clock):
    """The console with a test-only change (``config``) that records what reached it."""
    app = make_app(fleet, clock)
    made = []

    @action("config")
    def change_config(ctx, form):
        made.append((ctx.viewer.name, form.get("value")))
        accounts.audit(ctx.db, ctx.viewer.name, "config changed", "", ctx.address, ctx.now())
        return Response("changed")

    app.router.routes.append(Route("/test/config", change_config, methods=["POST"]))
    app.state.made = made
    return app


def changes_audited(db) -> int:
    return ConsoleAudit.select().where(ConsoleAudit.action == "config changed").bind(db).count()


@pytest.mark.parametrize("name", ["owner.all", "owner.budi", "mgr.sari", "audit.one"])
def test_a_read_only_role_cannot_post_a_change_even_crafted(change_app, fleet, name):
    client = signed_in(change_app, name)
    csrf = session_csrf(fleet, client)
    assert csrf
    if name != "audit.one":  # the token the pages carry is the session's
        assert form_token(client.get("/terminals").text) == csrf
    for form in ({"csrf": csrf, "value": "x"}, {"value": "x"}, {"csrf": "wrong", "value": "x"}):
        response = client.post("/test/config", data=form)
        assert response.status_code == 403
        assert "changed" not in response.text
    # a JSON body, a query string, a header: no other way in
    response = client.post(
        f"/test/config?csrf={csrf}", json={"csrf": csrf}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 403
    assert change_app.state.made == []
    assert changes_audited(fleet) == 0


def test_a_change_needs_the_sessions_csrf_token(change_app, fleet):
    admin = signed_in(change_app, "root.admin")
    other = signed_in(change_app, "mgr.sari", address="192.0.2.11")
    csrf, others = session_csrf(fleet, admin), session_csrf(fleet, other)
    assert csrf != others
    for form in ({"value": "x"}, {"csrf": "", "value": "x"}, {"csrf": others, "value": "x"}):
        assert admin.post("/test/config", data=form).status_code == 403
    assert admin.post(f"/test/config?csrf={csrf}", data={"value": "x"}).status_code == 403
    assert admin.get("/test/config").status_code == 405
    assert change_app.state.made == []
    assert changes_audited(fleet) == 0
    # signed out: refused whatever the form says
    anonymous = client_of(change_app)
    assert anonymous.post("/test/config", data={"csrf": csrf}).status_code == 401
    # the admin with the session's own token: the change is made, once
    response = admin.post("/test/config", data={"csrf": csrf, "value": "x"})
    assert (response.status_code, response.text) == (200, "changed")
    assert change_app.state.made == [("root.admin", "x")]
    assert changes_audited(fleet) == 1


def test_signing_in_needs_the_login_forms_cookie_token(app, fleet):
    client = client_of(app)
    token = form_token(client.get("/login").text)
    form = {"csrf": token, "name": "root.admin", "password": PASSWORD}
    bare = client_of(app)  # the form's token, without its cookie (a cross-site post)
    assert bare.post("/login", data=form).status_code == 403
    assert client.post("/login", data={**form, "csrf": "forged"}).status_code == 403
    refused = client.post("/login", data={**form, "csrf": ""})
    assert refused.status_code == 403
    assert COOKIE not in client.cookies and COOKIE not in bare.cookies
    assert ConsoleSession.select().bind(fleet).count() == 0
    # each form rendered has a new token (the refusals' too): the last one signs in
    assert client.post("/login", data=form).status_code == 403
    refused = client.post("/login", data={**form, "csrf": ""})
    response = client.post("/login", data={**form, "csrf": form_token(refused.text)})
    assert response.status_code == 303 and client.cookies.get(COOKIE)


def test_signing_out_needs_the_csrf_token(app, fleet):
    client = signed_in(app, "mgr.sari")
    assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert client.post("/logout").status_code == 403
    assert client.get("/terminals").status_code == 200  # still signed in


# -- sessions -------------------------------------------------------------------------------------
def test_after_signing_out_the_old_cookie_opens_nothing(change_app, fleet):
    client = signed_in(change_app, "root.admin")
    old = client.cookies.get(COOKIE)
    csrf = session_csrf(fleet, client)
    assert client.get("/terminals").status_code == 200
    response = client.post("/logout", data={"csrf": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert COOKIE in response.headers["set-cookie"]  # the browser is told to forget it
    assert ConsoleSession.select().bind(fleet).count() == 0

    replay = client_of(change_app)
    replay.cookies.set(COOKIE, old)
    for path in ("/terminals", "/sales", "/"):
        response = replay.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert replay.get("/sales/live").status_code == 401
    assert replay.post("/test/config", data={"csrf": csrf}).status_code == 401
    assert change_app.state.made == []
    assert replay.get("/login").status_code == 200  # the sign-in form, not a redirect in


def test_an_idle_session_expires(app, fleet, clock):
    client = signed_in(app, "mgr.sari")
    for _ in range(3):  # used every 29 minutes: alive
        clock.advance(minutes=29)
        assert client.get("/terminals").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/terminals")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/sales/live").status_code == 401
    assert ConsoleSession.select().bind(fleet).count() == 0
    clock.advance(minutes=-60)  # a clock set back does not bring it back
    assert client.get("/terminals").status_code == 303


def test_a_session_ends_after_its_lifetime_even_in_use(app, fleet, clock):
    client = signed_in(app, "mgr.sari")
    for _ in range(35):  # 11 h 40 min of use
        clock.advance(minutes=20)
        assert client.get("/terminals").status_code == 200
    clock.advance(minutes=21)
    assert client.get("/terminals").status_code == 303


def test_a_disabled_accounts_session_stops_working(change_app, fleet):
    client = signed_in(change_app, "root.admin")
    csrf = session_csrf(fleet, client)
    assert client.get("/terminals").status_code == 200
    ConsoleAccount.update(disabled=True).where(ConsoleAccount.name == "root.admin").execute(fleet)
    assert client.get("/terminals").status_code == 303
    assert client.get("/sales/live").status_code == 401
    assert client.post("/test/config", data={"csrf": csrf}).status_code == 401
    assert change_app.state.made == []
    # and it cannot sign in again
    assert log_in(client_of(change_app, "192.0.2.99"), "root.admin").status_code == 401


def _cookie_header(response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie")


@pytest.mark.parametrize("secure", [True, False])
def test_the_session_cookie_is_httponly_strict_and_secure_behind_tls(fleet, clock, secure):
    app = make_app(fleet, clock, secure_cookies=secure)
    client = TestClient(app, base_url=HTTPS if secure else "http://testserver")
    client.follow_redirects = False
    form = client.get("/login")
    login_cookie = _cookie_header(form, "pos_console_login").lower()
    response = log_in(client, "mgr.sari")
    assert response.status_code == 303
    header = _cookie_header(response, COOKIE)
    flags = [part.strip().lower() for part in header.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags
    assert ("secure" in flags) is secure
    assert ("secure" in login_cookie.split("; ")) is secure
    assert "httponly" in login_cookie and "samesite=strict" in login_cookie
    # the database keeps only the token's hash
    token = header.split(";")[0].split("=", 1)[1]
    stored = [row.token_hash for row in ConsoleSession.select().bind(fleet)]
    assert stored == [accounts.token_hash(token)] and token not in stored


# -- the login throttle under 1,000 guesses -------------------------------------------------------
# The throttle's rules are the same SQL on both databases: the slow 500-guess variants
# run on SQLite only. PostgreSQL's own path (the row lock that serialises guesses sent at
# the same moment) runs in test_guesses_sent_at_once_do_not_outrun_the_throttle and
# test_five_hundred_guesses_from_one_address.
ON_SQLITE_ONLY = pytest.mark.parametrize("fleet_url", ["sqlite"], indirect=True)


@pytest.fixture
def hashes(monkeypatch):
    """The password hashes actually checked."""
    counted = []
    original = accounts.password_matches

    def counting(password, phc):
        counted.append(password)
        return original(password, phc)

    monkeypatch.setattr(accounts, "password_matches", counting)
    return counted


def guess(client, token, name, password, headers=None):
    """One wrong guess, as a script would: the form's token from the last page."""
    form = {"csrf": token, "name": name, "password": password}
    response = client.post("/login", data=form, headers=headers)
    assert response.status_code in (401, 429), response.status_code
    return form_token(response.text), response.status_code


def locked_until(db, subject: str) -> datetime | None:
    row = ConsoleThrottle.select().where(ConsoleThrottle.subject == subject).bind(db).first()
    return row.locked_until if row else None


def right_password_after_the_lock(app, fleet, clock, hashes, name, address):
    """The right password is refused while the account is locked (no hash checked), and
    accepted once the lock has passed."""
    client = client_of(app, address)
    before = len(hashes)
    refused = log_in(client, name)
    assert refused.status_code == 429
    assert len(hashes) == before
    assert COOKIE not in client.cookies
    until = locked_until(fleet, f"account:{name}")
    assert until is not None and until > clock()
    address_until = locked_until(fleet, f"address:{address}") or until
    clock.now = max(until, address_until) + timedelta(seconds=1)
    assert log_in(client, name).status_code == 303
    assert client.get("/terminals").status_code == 200


def test_five_hundred_guesses_from_one_address(app, fleet, clock, hashes):
    client = client_of(app, "198.51.100.7")
    token = form_token(client.get("/login").text)
    statuses = []
    for n in range(500):  # one a second, as fast as the form answers
        token, status = guess(client, token, "mgr.sari", f"wrong guess {n}")
        statuses.append(status)
        clock.advance(seconds=1)
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert statuses.count(401) == len(hashes)
    assert len(hashes) <= 12  # 5, then one each time a lock (doubling) has passed
    assert set(hashes) <= {f"wrong guess {n}" for n in range(500)}
    right_password_after_the_lock(app, fleet, clock, hashes, "mgr.sari", "198.51.100.7")


@ON_SQLITE_ONLY
@pytest.mark.parametrize("trusted", [True, False])
def test_five_hundred_guesses_from_a_hundred_addresses(fleet, clock, hashes, trusted):
    """Through a trusted reverse proxy each X-Forwarded-For is a client of its own (the
    account's lock holds); from an untrusted peer a spoofed X-Forwarded-For is ignored
    (one address: locked too)."""
    proxy = "10.0.0.1"
    app = make_app(fleet, clock, trusted_proxies=[proxy] if trusted else [])
    client = client_of(app, proxy)
    token = form_token(client.get("/login").text)
    for n in range(500):
        address = f"203.0.113.{n % 100}"
        token, _ = guess(client, token, "mgr.sari", f"no {n}", {"X-Forwarded-For": address})
        clock.advance(seconds=1)
    assert len(hashes) <= 12
    seen = {row.address for row in ConsoleAudit.select().bind(fleet)}
    assert seen == ({f"203.0.113.{n}" for n in range(100)} if trusted else {proxy})
    subjects = {row.subject for row in ConsoleThrottle.select().bind(fleet)}
    if not trusted:
        assert subjects == {"account:mgr.sari", f"address:{proxy}"}
    right_password_after_the_lock(
        app, fleet, clock, hashes, "mgr.sari", "203.0.113.250" if trusted else "192.0.2.77"
    )


@ON_SQLITE_ONLY
@pytest.mark.parametrize(
    "trusted, forwarded, subject",
    [  # an untrusted peer: its X-Forwarded-For is ignored
        (False, "{n}.1.2.3", "192.0.2.66"),
        # through the proxy: the address it added last, not what the client wrote before it
        (True, "{n}.1.2.3, 198.51.100.5", "198.51.100.5"),
        # a new IPv6 address for each guess, all in one /64 (as one home or server has)
        (True, "2001:db8:1:2:{n:x}::{n:x}", "2001:db8:1:2::/64"),
    ],
)
def test_five_hundred_names_from_one_address_lock_the_address(
    fleet, clock, hashes, trusted, forwarded, subject
):
    """Spraying 500 names (each wrong once) from one address: the address's lock holds
    even though no account reaches its own, whatever X-Forwarded-For the client makes up."""
    peer = "10.0.0.1" if trusted else "192.0.2.66"
    app = make_app(fleet, clock, trusted_proxies=["10.0.0.1"] if trusted else [])
    client = client_of(app, peer)
    token = form_token(client.get("/login").text)
    for n in range(500):
        headers = {"X-Forwarded-For": forwarded.format(n=n % 250 + 1)}
        token, _ = guess(client, token, f"user{n}", PASSWORD, headers)
        clock.advance(seconds=1)
    assert len(hashes) <= 12
    addresses = {row.address for row in ConsoleAudit.select().bind(fleet)}
    if "/" in subject:  # the audit keeps each address as it came
        assert len(addresses) == 250
    else:
        assert addresses == {subject}
    assert locked_until(fleet, f"address:{subject}") > clock()
    subjects = {row.subject for row in ConsoleThrottle.select().bind(fleet)}
    assert {s for s in subjects if s.startswith("address:")} == {f"address:{subject}"}


@pytest.mark.parametrize("same_name", [True, False])
def test_guesses_sent_at_once_do_not_outrun_the_throttle(app, fleet, monkeypatch, same_name):
    """50 guesses posted at the same moment (each with its own form), for one account or
    for 50 names from one address: no more hashes checked than the throttle allows one
    after the other, and every refusal counted (none lost to another's write)."""
    counted = []
    guard = threading.Lock()
    original = accounts.password_matches

    def slow(password, phc):
        with guard:
            counted.append(password)
        time.sleep(0.05)  # a real Argon2id check takes about this long, or longer
        return original(password, phc)

    monkeypatch.setattr(accounts, "password_matches", slow)
    clients = [client_of(app, "198.51.100.9") for _ in range(50)]
    tokens = [form_token(c.get("/login").text) for c in clients]
    start = threading.Barrier(len(clients))

    def attack(n: int) -> int:
        name = "mgr.sari" if same_name else f"user{n}"
        form = {"csrf": tokens[n], "name": name, "password": f"guess {n}"}
        start.wait()
        return clients[n].post("/login", data=form).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(attack, range(len(clients))))
    assert set(statuses) <= {401, 429}
    assert len(counted) <= accounts.POLICY.max_failures
    assert statuses.count(401) == len(counted)
    subject = ConsoleThrottle.subject == "address:198.51.100.9"
    address = ConsoleThrottle.select().where(subject).bind(fleet).get()
    assert address.failures == len(counted) and address.locked_until is not None
    assert log_in(client_of(app, "198.51.100.9"), "mgr.sari").status_code == 429


def test_a_wrong_name_costs_a_hash_as_a_wrong_password_does(app, fleet, hashes):
    client = client_of(app)
    answers = {}
    for name in ("mgr.sari", "nobody.here", "audit.one"):
        before = len(hashes)
        response = log_in(client, name, "not the password at all")
        assert len(hashes) == before + 1, name
        answers[name] = (response.status_code, re.sub(r'value="[^"]*"', "", response.text))
    ConsoleAccount.update(disabled=True).where(ConsoleAccount.name == "audit.one").execute(fleet)
    before = len(hashes)
    response = log_in(client, "audit.one", PASSWORD)
    assert len(hashes) == before + 1 and response.status_code == 401
    assert answers["mgr.sari"][0] == answers["nobody.here"][0] == 401
    # the same page but for the name typed back into the form
    assert answers["mgr.sari"][1] == answers["nobody.here"][1]


# -- the second factor ----------------------------------------------------------------------------
def test_an_account_with_a_second_factor_needs_the_current_code(app, fleet, clock):
    uri = accounts.new_totp_secret(fleet, "root.admin")
    assert uri.startswith("otpauth://totp/")
    secret = accounts.get_account(fleet, "root.admin").totp_secret
    now = clock()
    current = accounts.totp_now(secret, now)
    old = accounts.totp_now(secret, now - timedelta(seconds=60))
    ahead = accounts.totp_now(secret, now + timedelta(seconds=60))
    codes = {current, old, ahead}
    client = client_of(app)
    assert log_in(client, "root.admin").status_code == 401  # no code
    assert log_in(client, "root.admin", code=old).status_code == 401  # two steps ago
    assert log_in(client, "root.admin", code=ahead).status_code == 401  # two steps ahead
    wrong = f"{(int(current) + 1) % 1_000_000:06d}"
    assert log_in(client, "root.admin", code=wrong).status_code == 401
    assert COOKIE not in client.cookies
    assert log_in(client, "root.admin", code=current).status_code == 303
    assert client.get("/terminals").status_code == 200
    # the code (nor the password) is never written down
    for row in ConsoleAudit.select().bind(fleet):
        text = f"{row.account} {row.action} {row.detail} {row.address}"
        assert not any(code in text for code in codes | {wrong}), text
        assert PASSWORD not in text


def test_a_code_that_signed_in_once_does_not_sign_in_again(app, fleet, clock):
    accounts.new_totp_secret(fleet, "root.admin")
    secret = accounts.get_account(fleet, "root.admin").totp_secret
    code = accounts.totp_now(secret, clock())
    assert log_in(client_of(app), "root.admin", code=code).status_code == 303
    clock.advance(seconds=10)  # the password seen over a shoulder, the code too
    assert log_in(client_of(app, "192.0.2.200"), "root.admin", code=code).status_code == 401


# -- headers and redirects ------------------------------------------------------------------------
def test_pages_carry_the_security_headers(app, fleet):
    client = client_of(app)
    pages = [client.get("/login")]
    log_in(client, "mgr.sari")
    pages += [client.get("/terminals"), client.get("/sales"), client.get("/terminals?store=X")]
    assert [p.status_code for p in pages] == [200, 200, 200, 404]
    for response in pages:
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "no-store" in response.headers["cache-control"]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/terminals",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\x7f/evil.example",
        "evil.example",
    ],
)
def test_no_open_redirect_through_next(app, fleet, target):
    client = client_of(app)
    response = log_in(client, "mgr.sari", next_=target)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == "/"
    # already signed in, the form's GET redirects through next too
    again = client.get("/login", params={"next": target})
    assert again.status_code == 303
    assert again.headers["location"] == location


def test_next_keeps_a_path_of_the_console(app, fleet):
    client = client_of(app)
    page = client.get("/terminals", params={"store": STORE_A})
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    response = log_in(client, "mgr.sari", next_="/terminals?store=Minimarket%20Sari")
    assert response.headers["location"] == "/terminals?store=Minimarket%20Sari"


# -- the audit ------------------------------------------------------------------------------------
def test_sign_ins_refusals_and_sign_outs_are_audited_with_name_and_address(app, fleet, clock):
    client = client_of(app, "192.0.2.44")
    assert log_in(client, "mgr.sari", "not the password").status_code == 401
    clock.advance(seconds=5)
    assert log_in(client, "mgr.sari").status_code == 303
    clock.advance(seconds=5)
    assert client.post("/logout", data={"csrf": session_csrf(fleet, client)}).status_code == 303
    rows = [
        (row.at, row.account, row.action, row.address)
        for row in ConsoleAudit.select().order_by(ConsoleAudit.id).bind(fleet)
    ]
    assert rows == [
        (NOW, "mgr.sari", "sign-in refused", "192.0.2.44"),
        (NOW + timedelta(seconds=5), "mgr.sari", "signed in", "192.0.2.44"),
        (NOW + timedelta(seconds=10), "mgr.sari", "signed out", "192.0.2.44"),
    ]
