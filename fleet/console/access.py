"""Who may see and do what in the console.

| role | sees | may change |
|---|---|---|
| ``admin`` (fleet admin) | everything | configuration, rollouts, jobs, accounts, minimums |
| ``owner`` | all (or listed) stores: sales, reports, stock, journals | minimums; proposals |
| ``manager`` (store manager) | their stores only: sales, reports, stock | nothing (read) |
| ``auditor`` | journals and their exports, reports | nothing (read) |
| ``finance`` | online payments: statements, open bookings; online reports | matches |
| ``warehouse`` | drop orders, stock moves, shipping labels | hand over, take back |

Everyone changes their own password and second factor (``self``); nothing else of a
read-only role's is a change.

Trends (``trends``) give members' figures as aggregates only; the lapsed members' ids,
the one personal datum the fleet holds of them, need ``members`` (admin and owner).

An owner's configuration change (``[console] owner_proposals``) is a proposal a fleet
admin approves or rejects (:mod:`fleet.console.proposals`); nothing is signed by it.

A store not visible to the viewer is answered as if it did not exist (404), so a
changed id in a URL, a filter or an export link tells nothing, not even that it exists.
A change asked for by a role that may not make it is refused (403) before anything is
read from the request's form. Every query of a page goes through :meth:`Viewer.stores_clause`
or :meth:`Viewer.require_store`, never a store id taken from the request as it came.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from fleet.console.accounts import account_stores
from fleet.models import ConsoleAccount, Terminal

# what each role may see (pages) and change (actions)
SEES = {
    "admin": {
        "sales",
        "reports",
        "terminals",
        "journal",
        "config",
        "jobs",
        "accounts",
        "payments",
        "warehouse",
        "shipping",
        "online",
        "stock",
        "margins",
        "trends",
        "members",  # trends: the lapsed members' ids (the only personal datum held)
        "self",
    },
    "owner": {
        "sales",
        "reports",
        "terminals",
        "journal",
        "config",
        "online",
        "stock",
        "margins",
        "trends",
        "members",
        "self",
    },
    "manager": {"sales", "reports", "terminals", "online", "stock", "margins", "trends", "self"},
    "auditor": {"reports", "journal", "self"},
    # online orders: the bank statements and the bookings they pay (customers' names)
    "finance": {"payments", "online", "self"},
    # online orders: drop orders handed over and taken back by scanning; the labels
    # (customers' names and addresses) printed for the parcels
    "warehouse": {"warehouse", "shipping", "self"},
}
# the parts that exist only where online orders are on ([orders] in fleet.toml)
ORDER_PARTS = frozenset({"payments", "warehouse", "shipping", "online"})
# "self": one's own password and second factor, the only change a read-only role makes
CHANGES = {
    "admin": {
        "config",
        "rollouts",
        "jobs",
        "accounts",
        "payments",
        "warehouse",
        "shipping",
        "stock",  # the products' minimums
        "self",
    },
    "owner": {"stock", "self"},  # + "propose", where the fleet lets owners propose
    "manager": {"self"},
    "auditor": {"self"},
    "finance": {"payments", "self"},
    "warehouse": {"warehouse", "shipping", "self"},
}


class Forbidden(Exception):
    """The viewer may not do this (403)."""


class NotFound(Exception):
    """Nothing there for this viewer (404): unknown, or another's."""


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    stores: frozenset[str] | None  # None: every store
    proposes: bool = False  # an owner whose configuration changes wait for an admin

    @classmethod
    def of(cls, account: ConsoleAccount, *, owner_proposals: bool = False) -> Viewer:
        proposes = owner_proposals and account.role == "owner"
        return cls(account.name, account.role, account_stores(account), proposes)

    def sees(self, part: str) -> bool:
        return part in SEES.get(self.role, set())

    def may(self, action: str) -> bool:
        if action == "propose":
            return self.proposes
        return action in CHANGES.get(self.role, set())

    def drafts(self) -> bool:
        """Whether the viewer writes configuration documents: signs them (an admin) or
        proposes them (an owner where the fleet lets them)."""
        return self.may("config") or self.may("propose")

    def require_part(self, part: str) -> None:
        if not self.sees(part):
            raise NotFound(part)

    def require_change(self, action: str) -> None:
        if not self.may(action):
            raise Forbidden(action)

    def sees_store(self, store: str) -> bool:
        return self.stores is None or store in self.stores

    def require_store(self, store: str) -> str:
        if not self.sees_store(store):
            raise NotFound(store)
        return store

    def stores_clause(self, column: peewee.Field) -> peewee.Expression | bool:
        """A WHERE clause keeping the rows of the viewer's stores (True: all)."""
        if self.stores is None:
            return True
        return column.in_(sorted(self.stores))

    def visible_stores(self, db: peewee.Database) -> list[str]:
        query = Terminal.select(Terminal.store).distinct().order_by(Terminal.store)
        stores = [store for (store,) in query.tuples().bind(db)]
        return [s for s in stores if self.sees_store(s)]

    def require_terminal(self, db: peewee.Database, terminal_id: str) -> Terminal:
        terminal = Terminal.select().where(Terminal.id == terminal_id).bind(db).first()
        if terminal is None or not self.sees_store(terminal.store):
            raise NotFound(terminal_id)
        return terminal
