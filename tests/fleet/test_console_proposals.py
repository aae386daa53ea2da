"""Owners' configuration changes, approved by a fleet admin (``[console] owner_proposals``),
and rolling a scope back to an older version, at the HTTP level on SQLite and PostgreSQL.
(The whole way to a real terminal, in the browser: test_console_browser.py.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet import rollout as rollouts
from fleet import signing
from fleet.config import ConsoleSettings, FleetConfig, SigningSettings
from fleet.console import accounts, proposals
from fleet.console.access import Viewer
from fleet.console.app import create_app
from fleet.models import ConfigDocument, ConfigProposal, ConsoleAudit, Rollout
from fleet.registry import register_terminal
from terminal.core import signed_config as sc
from tests.fleet.console_client import csrf_of, signed_in

PASSWORD = "a long pass phrase"
FAST = accounts.FAST_TEST_COST
TEH_6500 = '[[products]]\nsku = "TEH"\nname = "Teh"\nprice = 6500\ntax_class = "PPN"\n'


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def signing_dir(tmp_path):
    signing.init(tmp_path / "root", tmp_path / "signing", datetime.now(UTC) - timedelta(minutes=1))
    return tmp_path / "signing"


def _app(fleet_db, signing_dir, *, owner_proposals: bool):
    for tid, store, group in (
        ("T01", "S1", "north"),
        ("T02", "S2", "south"),
        ("T03", "S1", "mixed"),
        ("T04", "S2", "mixed"),
    ):
        pem = sc.public_pem(Ed25519PrivateKey.generate().public_key())
        register_terminal(fleet_db, tid, store=store, group=group, public_key_pem=pem)
    for name, role, stores in (
        ("ani", "admin", None),
        ("oka", "owner", None),
        ("sari", "owner", ["S1"]),
        ("made", "manager", ["S1"]),
    ):
        accounts.add_account(fleet_db, name, role, PASSWORD, _now(), stores=stores, cost=FAST)
    # the broker is not there: an approved push is signed and planned, and its rollout
    # waits paused (tests/fleet/test_console_browser.py runs one to a real terminal)
    fleet = FleetConfig(signing=SigningSettings(dir=str(signing_dir)))
    settings = ConsoleSettings(secure_cookies=False, owner_proposals=owner_proposals)
    return create_app(fleet_db, settings, cost=FAST, fleet=fleet)


@pytest.fixture
def app(fleet_db, signing_dir):
    return _app(fleet_db, signing_dir, owner_proposals=True)


def _propose(client, scope: str, document: str = TEH_6500, note: str = "Teh up by 1.000"):
    token = csrf_of(client.get(f"/config/edit?scope={scope}").text)
    return client.post(
        "/config/propose",
        data={"csrf": token, "scope": scope, "document": document, "note": note},
        follow_redirects=False,
    )


def _signed(db, signing_dir, document: dict, scope: sc.Scope) -> None:
    """A version signed for the scope (its rollout ended: the next may be planned)."""
    planned = rollouts.sign_and_plan(db, signing_dir, document, scope, waves=[100])
    rollouts.abort(db, planned.rollout.id)


def _audited(db, action: str) -> list[str]:
    return [
        f"{a.account}: {a.detail}"
        for a in ConsoleAudit.select().where(ConsoleAudit.action == action).bind(db)
    ]


def test_without_the_setting_an_owner_only_reads(fleet_db, signing_dir):
    app = _app(fleet_db, signing_dir, owner_proposals=False)
    owner = signed_in(app, "oka", PASSWORD)
    assert "/config/edit" not in owner.get("/config").text
    assert owner.get("/config/edit?scope=group:north").status_code == 403
    token = csrf_of(owner.get("/config").text)
    for path in ("/config/preview", "/config/propose"):
        answer = owner.post(
            path, data={"csrf": token, "scope": "group:north", "document": TEH_6500}
        )
        assert answer.status_code == 403, path
    assert ConfigProposal.select().bind(fleet_db).count() == 0


def test_an_owner_proposes_for_their_own_stores_only(app, fleet_db):
    sari = signed_in(app, "sari", PASSWORD)  # owner of S1
    page = sari.get("/config").text
    assert "wait for a fleet admin" in page and 'action="/config/edit"' in page
    editor = sari.get("/config/edit?scope=group:north")
    assert editor.status_code == 200 and 'name="waves"' not in editor.text
    preview = sari.post(
        "/config/preview",
        data={"csrf": csrf_of(editor.text), "scope": "group:north", "document": TEH_6500},
    )
    assert preview.status_code == 200
    assert "+price = 6500" in preview.text and "data-propose" in preview.text
    assert "data-push" not in preview.text
    # group:mixed reaches T04 of S2; fleet reaches every store; T02 is S2's
    for scope in ("group:mixed", "fleet", "terminal:T02", "group:nobody"):
        assert sari.get(f"/config/edit?scope={scope}").status_code == 404, scope
        crafted = sari.post(
            "/config/propose",
            data={"csrf": csrf_of(editor.text), "scope": scope, "document": TEH_6500},
        )
        assert crafted.status_code == 404, scope
    assert ConfigProposal.select().bind(fleet_db).count() == 0
    manager = signed_in(app, "made", PASSWORD)
    crafted = manager.post(
        "/config/propose",
        data={"csrf": csrf_of(manager.get("/sales").text), "scope": "terminal:T01"},
    )
    assert crafted.status_code == 403

    answer = _propose(sari, "group:north")
    assert answer.status_code == 303
    proposal = ConfigProposal.select().bind(fleet_db).get()
    assert answer.headers["location"] == f"/config/proposals/{proposal.id}"
    assert (proposal.scope, proposal.state, proposal.proposed_by) == (
        "group:north",
        "pending",
        "sari",
    )
    assert proposals.document_of(proposal)["products"][0]["price"] == 6500
    assert ConfigDocument.select().bind(fleet_db).count() == 0  # nothing signed
    assert _audited(fleet_db, "config propose") == [
        f"sari: proposal {proposal.id}: group:north on version 0"
    ]
    shown = sari.get(f"/config/proposals/{proposal.id}").text
    assert "Teh up by 1.000" in shown and "+price = 6500" in shown
    assert "data-withdraw" in shown and "data-approve" not in shown
    # the other owner sees it (every store), may not withdraw it
    oka = signed_in(app, "oka", PASSWORD)
    assert "data-withdraw" not in oka.get(f"/config/proposals/{proposal.id}").text
    refused = oka.post(
        f"/config/proposals/{proposal.id}/withdraw",
        data={"csrf": csrf_of(oka.get("/config").text)},
    )
    assert refused.status_code == 409 and "only who proposed it" in refused.text
    assert proposals.get(fleet_db, proposal.id).state == "pending"


def test_an_owner_cannot_approve_and_an_admin_approves_once(app, fleet_db):
    sari = signed_in(app, "sari", PASSWORD)
    _propose(sari, "group:north")
    proposal = ConfigProposal.select().bind(fleet_db).get()
    crafted = sari.post(
        f"/config/proposals/{proposal.id}/approve",
        data={"csrf": csrf_of(sari.get("/config").text), "waves": "100%"},
    )
    assert crafted.status_code == 403
    assert ConfigDocument.select().bind(fleet_db).count() == 0

    admin = signed_in(app, "ani", PASSWORD)
    listed = admin.get("/config").text
    assert f'data-proposal="{proposal.id}"' in listed and "waiting for approval" in listed
    page = admin.get(f"/config/proposals/{proposal.id}").text
    assert "data-approve" in page and "data-reject" in page and "data-stale" not in page
    approve = {"csrf": csrf_of(page), "waves": "100%", "wait": "60"}
    answer = admin.post(
        f"/config/proposals/{proposal.id}/approve", data=approve, follow_redirects=False
    )
    assert answer.status_code == 303
    decided = proposals.get(fleet_db, proposal.id)
    assert (decided.state, decided.decided_by) == ("approved", "ani")
    signed = ConfigDocument.select().where(ConfigDocument.scope == "group:north").bind(fleet_db)
    assert [d.version for d in signed] == [1]
    assert rollouts.document_of(signed[0].envelope)["products"][0]["price"] == 6500
    assert Rollout.select().where(Rollout.id == decided.rollout).bind(fleet_db).get().scope == (
        "group:north"
    )
    again = admin.post(f"/config/proposals/{proposal.id}/approve", data=approve)
    assert again.status_code == 409 and "already approved by ani" in again.text
    assert ConfigDocument.select().bind(fleet_db).count() == 1
    assert _audited(fleet_db, "proposal approve") == [
        f"ani: proposal {proposal.id} (group:north) of sari: rollout {decided.rollout}"
    ]
    assert "approved" in sari.get(f"/config/proposals/{proposal.id}").text


def test_a_rejection_says_why_and_ends_the_proposal(app, fleet_db):
    sari = signed_in(app, "sari", PASSWORD)
    _propose(sari, "terminal:T01")
    proposal = ConfigProposal.select().bind(fleet_db).get()
    admin = signed_in(app, "ani", PASSWORD)
    token = csrf_of(admin.get(f"/config/proposals/{proposal.id}").text)
    silent = admin.post(f"/config/proposals/{proposal.id}/reject", data={"csrf": token})
    assert silent.status_code == 409 and "say why" in silent.text
    admin.post(
        f"/config/proposals/{proposal.id}/reject",
        data={"csrf": token, "reason": "prices change on Mondays"},
    )
    shown = sari.get(f"/config/proposals/{proposal.id}").text
    assert "rejected" in shown and "prices change on Mondays" in shown
    assert "data-withdraw" not in shown
    late = admin.post(
        f"/config/proposals/{proposal.id}/approve", data={"csrf": token, "waves": "100%"}
    )
    assert late.status_code == 409 and "already rejected by ani" in late.text
    assert ConfigDocument.select().bind(fleet_db).count() == 0


def test_a_proposal_overtaken_by_a_newer_version_says_so(app, fleet_db, signing_dir):
    sari = signed_in(app, "sari", PASSWORD)
    _propose(sari, "group:north")
    proposal = ConfigProposal.select().bind(fleet_db).get()
    newer = signing.parse_document(TEH_6500.replace("6500", "7000"))
    _signed(fleet_db, signing_dir, newer, sc.Scope("group", "north"))
    admin = signed_in(app, "ani", PASSWORD)
    page = admin.get(f"/config/proposals/{proposal.id}").text
    assert "data-stale" in page and "the newest is 1" in page
    assert "-price = 7000" in page and "+price = 6500" in page


def test_a_failed_push_puts_the_approval_back(fleet_db):
    viewer = Viewer("sari", "owner", None, proposes=True)
    scope = sc.Scope("fleet")
    proposal = proposals.propose(fleet_db, viewer, scope, {"products": []}, "", _now())

    def broken_push(document, scope):
        raise signing.SigningError("no signing key")

    with pytest.raises(signing.SigningError):
        proposals.approve(fleet_db, proposal.id, "ani", _now(), broken_push)
    assert proposals.get(fleet_db, proposal.id).state == "pending"


def test_two_admins_approving_at_once_push_once(fleet_db):
    viewer = Viewer("sari", "owner", None, proposes=True)
    proposal = proposals.propose(fleet_db, viewer, sc.Scope("fleet"), {}, "", _now())
    pushed: list[str] = []
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def admin(name: str) -> None:
        start.wait()
        try:
            proposals.approve(
                fleet_db, proposal.id, name, _now(), lambda d, s: pushed.append(name) or 1
            )
            outcomes.append("approved")
        except proposals.ProposalError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=admin, args=(n,)) for n in ("ani", "budi")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(pushed) == 1 and sorted(outcomes)[0] == "approved"
    assert f"already approved by {pushed[0]}" in sorted(outcomes)[1]


def test_an_older_version_is_rolled_back_to_through_the_editor(app, fleet_db, signing_dir):
    north = sc.Scope("group", "north")
    for price in (6000, 6500):
        document = signing.parse_document(TEH_6500.replace("6500", str(price)))
        _signed(fleet_db, signing_dir, document, north)
    admin = signed_in(app, "ani", PASSWORD)
    page = admin.get("/config").text
    assert page.count("data-roll-back") == 1  # on version 1, not on the newest
    assert "/config/edit?scope=group%3Anorth&amp;version=1" in page
    editor = admin.get("/config/edit?scope=group:north&version=1")
    assert "the content of version 1, to roll back to" in editor.text
    assert "price = 6000" in editor.text
    assert admin.get("/config/edit?scope=group:north&version=9").status_code == 404
    preview = admin.post(
        "/config/preview",
        data={
            "csrf": csrf_of(editor.text),
            "scope": "group:north",
            "document": TEH_6500.replace("6500", "6000"),
        },
    )
    assert "-price = 6500" in preview.text and "+price = 6000" in preview.text
    # an owner of S1 sees the group's versions and may roll them back as a proposal;
    # the fleet's own document is not theirs
    _signed(fleet_db, signing_dir, {}, sc.Scope("fleet"))
    _signed(fleet_db, signing_dir, {}, sc.Scope("fleet"))
    sari = signed_in(app, "sari", PASSWORD)
    assert sari.get("/config").text.count("data-roll-back") == 1
    assert sari.get("/config/edit?scope=fleet&version=1").status_code == 404
