"""Configuration changes an owner asks for and a fleet admin decides on.

Where the fleet sets ``[console] owner_proposals = true``, an owner may write a new
document for a scope of their own stores (a terminal of theirs, a group whose terminals
are all theirs; the fleet's whole document only for an owner of every store) in the same
editor as an admin. Nothing is signed: the document waits as a proposal until a fleet
admin approves it (signed with the fleet's key and pushed in waves, as the admin's own
change is) or rejects it with a reason; the owner may withdraw it while it waits.

A proposal is decided once: the decision is an UPDATE of a pending row, so two admins
approving at the same moment push it once and the second is told who was first. An
approval whose push fails (no signing key, broker down) is put back to pending.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import peewee

from fleet import rollout as rollouts
from fleet.console.access import Viewer
from fleet.db import write_transaction
from fleet.models import ConfigProposal, Terminal
from terminal.core import signed_config as sc

MAX_PENDING = 20  # per account: a proposal is a request to a person, not a queue
MAX_NOTE = 500


class ProposalError(ValueError):
    """A proposal that cannot be made or decided as asked; nothing changed."""


def may_propose_for(db: peewee.Database, viewer: Viewer, scope: sc.Scope) -> bool:
    """Whether the scope is the viewer's own: every terminal it reaches is in a store
    they see (the fleet's scope: only for a viewer of every store)."""
    if viewer.stores is None:
        return True
    if scope.label == "fleet":
        return False
    stores = [
        store
        for (store,) in Terminal.select(Terminal.store)
        .where(rollouts.scope_clause(scope))
        .tuples()
        .bind(db)
    ]
    return bool(stores) and all(viewer.sees_store(s) for s in stores)


def propose(
    db: peewee.Database,
    viewer: Viewer,
    scope: sc.Scope,
    document: dict,
    note: str,
    now: datetime,
) -> ConfigProposal:
    if not may_propose_for(db, viewer, scope):
        raise ProposalError(f"{scope.label} reaches terminals of stores that are not yours")
    with write_transaction(db):
        waiting = (
            ConfigProposal.select()
            .where(
                (ConfigProposal.proposed_by == viewer.name) & (ConfigProposal.state == "pending")
            )
            .bind(db)
            .count()
        )
        if waiting >= MAX_PENDING:
            raise ProposalError(
                f"{waiting} of your proposals are still waiting: withdraw one, or wait for "
                "an admin's answer"
            )
        newest = rollouts.documents(db, scope)
        proposal_id = ConfigProposal.insert(
            scope=scope.label,
            base_version=newest[0].version if newest else 0,
            document=json.dumps(document, ensure_ascii=False, sort_keys=True),
            note=note.strip()[:MAX_NOTE],
            proposed_by=viewer.name,
            proposed_at=now,
        ).execute(db)
    return get(db, proposal_id)


def get(db: peewee.Database, proposal_id: int) -> ConfigProposal | None:
    return ConfigProposal.select().where(ConfigProposal.id == proposal_id).bind(db).first()


def document_of(proposal: ConfigProposal) -> dict:
    return json.loads(proposal.document)


def listed(db: peewee.Database, visible: set[str] | None, limit: int = 30) -> list[ConfigProposal]:
    """The newest proposals, pending first, of the scopes the viewer sees (None: all)."""
    query = ConfigProposal.select().order_by(
        (ConfigProposal.state != "pending"), ConfigProposal.id.desc()
    )
    if visible is not None:
        query = query.where(ConfigProposal.scope.in_(sorted(visible)))
    return list(query.limit(limit).bind(db))


def _decide(
    db: peewee.Database,
    proposal_id: int,
    state: str,
    by: str,
    now: datetime,
    *,
    reason: str = "",
    only_proposer: bool = False,
) -> ConfigProposal:
    with write_transaction(db):
        proposal = get(db, proposal_id)
        if proposal is None:
            raise ProposalError(f"no proposal {proposal_id}")
        if only_proposer and proposal.proposed_by != by:
            raise ProposalError("only who proposed it may withdraw it")
        changed = (
            ConfigProposal.update(
                state=state, decided_by=by, decided_at=now, reason=reason.strip()[:MAX_NOTE]
            )
            .where((ConfigProposal.id == proposal_id) & (ConfigProposal.state == "pending"))
            .execute(db)
        )
        if not changed:  # decided meanwhile: as it stands now (the other's commit)
            decided = get(db, proposal_id)
            raise ProposalError(
                f"proposal {proposal_id} was already {decided.state} by {decided.decided_by}"
            )
    return get(db, proposal_id)


def reject(
    db: peewee.Database, proposal_id: int, by: str, reason: str, now: datetime
) -> ConfigProposal:
    if not reason.strip():
        raise ProposalError("say why it is rejected: the owner reads it")
    return _decide(db, proposal_id, "rejected", by, now, reason=reason)


def withdraw(db: peewee.Database, proposal_id: int, by: str, now: datetime) -> ConfigProposal:
    return _decide(db, proposal_id, "withdrawn", by, now, only_proposer=True)


def approve(
    db: peewee.Database,
    proposal_id: int,
    by: str,
    now: datetime,
    push: Callable[[dict, sc.Scope], int],
) -> ConfigProposal:
    """Decide for the proposal, then ``push(document, scope)`` (signs and starts the
    rollout; returns its id). A push that raises puts the proposal back to pending."""
    proposal = _decide(db, proposal_id, "approved", by, now)
    try:
        rollout_id = push(document_of(proposal), sc.parse_scope(proposal.scope))
    except BaseException:
        ConfigProposal.update(state="pending", decided_by="", decided_at=None).where(
            ConfigProposal.id == proposal_id
        ).execute(db)
        raise
    ConfigProposal.update(rollout=rollout_id).where(ConfigProposal.id == proposal_id).execute(db)
    return get(db, proposal_id)
