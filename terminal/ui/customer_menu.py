"""Customers at the till: find by member card (scanned), phone or name and attach to
the sale; add, edit or delete (with the customers approval when that category is on).
No Kivy: the questions go to an ``Asker``."""

from __future__ import annotations

from collections.abc import Callable

from terminal.i18n import _
from terminal.services.pos import PosService
from terminal.ui.asker import Asker


def looks_like_phone(text: str) -> bool:
    """``0813 1111 2222``, ``+62-813-...``: digits, with the separators people type."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return len(digits) >= 6 and all(ch.isdigit() or ch in "+ -()." for ch in text.strip())


class CustomerMenu:
    """``on_customer``: called when the sale's customer changed (attached, another one,
    none, deleted), before the outcome is said."""

    def __init__(
        self, service: PosService, ask: Asker, on_customer: Callable[[], None] | None = None
    ) -> None:
        self.service = service
        self.desk = service.customers
        self.ask = ask
        self.on_customer = on_customer

    def open(self, typed: str = "") -> None:
        """``typed``: what the cashier typed before the customer key, searched at once.
        Else: the sale's customer's menu, or the search."""
        if typed:
            self.search(typed)
            return
        current = self.service.customer
        if current is None:
            self.search_prompt()
            return
        actions = {
            "edit": lambda: self.edit(current),
            "delete": lambda: self.delete(current),
            "detach": lambda: self.attach(None),
            "other": lambda: self.ask.next(self.search_prompt),
        }
        self.ask.choose(
            _("Customer {name}").format(name=current.name),
            [
                ("edit", _("Edit")),
                ("delete", _("Delete")),
                ("detach", _("Not this customer")),
                ("other", _("Another customer")),
            ],
            lambda key: actions[key](),
            # a phone or a name typed here finds another customer: digits pick nothing
            typed=self.search,
            typed_hint=_("Or type a phone or name to find another customer"),
        )

    def _changed(self) -> None:
        if self.on_customer is not None:
            self.on_customer()

    def attach(self, customer) -> None:
        """``customer`` on the sale (None: nobody)."""
        self.desk.attach(customer)
        self._changed()
        if customer is not None:
            self.ask.say(
                _("Customer {name} ({tier})").format(
                    name=customer.name, tier=self.desk.tier_name(customer)
                )
            )

    def search_prompt(self) -> None:
        self.ask.enter(
            _("Customer: scan the member card, or type phone or name"),
            self.search,
            letters=True,
            accept_scans=True,
        )

    def search(self, text: str) -> str | None:
        """One found: attached; several: which one; none: add one, or search again."""
        found = self.desk.find(text)
        if not found:
            self.ask.next(
                lambda: self.ask.choose(
                    _("No customer found for {text}").format(text=text),
                    [("add", _("Add a new customer")), ("again", _("Search again"))],
                    lambda key: self.add(text) if key == "add" else self.open(),
                )
            )
            return None
        if len(found) == 1:
            self.attach(found[0])
            return None
        options = [(c.id, f"{c.name} {c.member_code or ''}") for c in found[:8]]
        by_id = {c.id: c for c in found}
        self.ask.next(
            lambda: self.ask.choose(
                _("Which customer?"), options, lambda cid: self.attach(by_id[cid])
            )
        )
        return None

    def ask_details(self, title: str, name: str, phone: str, done) -> None:
        """Name, then phone: two questions, then ``done(name, phone)``."""

        def with_name(new_name: str) -> str | None:
            if not new_name.strip():
                return _("A name, please")

            def with_phone(new_phone: str) -> str | None:
                self.ask.next(lambda: done(new_name.strip(), new_phone.strip() or None))
                return None

            self.ask.next(
                lambda: self.ask.enter(title + ": " + _("phone"), with_phone, value=phone)
            )
            return None

        self.ask.enter(title + ": " + _("name"), with_name, value=name, letters=True)

    def add(self, searched: str = "") -> None:
        """A new customer, attached to the sale. ``searched``: what was searched for and
        not found - a phone number fills the phone, anything else the name."""

        def done(name: str, phone: str | None) -> None:
            self.ask.approve(
                lambda approval: self.desk.add(name, phone, approval=approval), self.attach
            )

        phone = searched if looks_like_phone(searched) else ""
        name = "" if phone or searched[:1].isdigit() else searched
        self.ask_details(_("New customer"), name, phone, done)

    def edit(self, customer) -> None:
        def done(name: str, phone: str | None) -> None:
            self.ask.approve(
                lambda approval: self.desk.edit(
                    customer.id, name, phone, customer.address, approval
                ),
                self.attach,
            )

        self.ask_details(_("Edit customer"), customer.name, customer.phone or "", done)

    def delete(self, customer) -> None:
        def deleted(_result) -> None:
            self._changed()
            self.ask.say(_("Customer deleted: personal data erased"))

        self.ask.approve(lambda approval: self.desk.delete(customer.id, approval), deleted)
