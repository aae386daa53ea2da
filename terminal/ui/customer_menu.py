"""Customers at the till: find by member card (scanned), phone or name and attach to
the sale; add, edit or delete (with the customers approval when that category is on)."""

from __future__ import annotations

from kivy.clock import Clock

from terminal.i18n import _
from terminal.ui.panels import ChoicePanel, EntryPanel


def open_customer_menu(screen, typed: str = "") -> None:
    service, router = screen.service, screen.router
    desk = service.customers

    def later(show) -> None:  # open the next prompt after this one has closed
        Clock.schedule_once(lambda _dt: show(), 0)

    def attach(customer) -> None:
        desk.attach(customer)
        screen.show_customer()
        screen.refresh()
        if customer is not None:
            screen.say(
                _("Customer {name} ({tier})").format(
                    name=customer.name, tier=desk.tier_name(customer)
                )
            )

    def ask_details(title: str, name: str, phone: str, done) -> None:
        """Name, then phone: two prompts, then ``done(name, phone)``."""

        def with_name(new_name: str) -> str | None:
            if not new_name.strip():
                return _("A name, please")

            def with_phone(new_phone: str) -> str | None:
                later(lambda: done(new_name.strip(), new_phone.strip() or None))
                return None

            later(
                lambda: _prefilled(EntryPanel(router, title + ": " + _("phone"), with_phone), phone)
            )
            return None

        _prefilled(EntryPanel(router, title + ": " + _("name"), with_name, letters=True), name)

    def add(name_hint: str = "") -> None:
        def done(name: str, phone: str | None) -> None:
            router.with_approval(lambda approval: desk.add(name, phone, approval=approval), attach)

        ask_details(_("New customer"), name_hint, "", done)

    def edit(customer) -> None:
        def done(name: str, phone: str | None) -> None:
            router.with_approval(
                lambda approval: desk.edit(customer.id, name, phone, customer.address, approval),
                attach,
            )

        ask_details(_("Edit customer"), customer.name, customer.phone or "", done)

    def delete(customer) -> None:
        def deleted(_result) -> None:
            screen.show_customer()
            screen.refresh()
            screen.say(_("Customer deleted: personal data erased"))

        router.with_approval(lambda approval: desk.delete(customer.id, approval), deleted)

    def search(text: str) -> str | None:
        found = desk.find(text)
        if not found:
            later(
                lambda: ChoicePanel(
                    router,
                    _("No customer found for {text}").format(text=text),
                    [("add", _("Add a new customer")), ("again", _("Search again"))],
                    lambda key: (
                        add("" if text[:1].isdigit() else text)
                        if key == "add"
                        else open_customer_menu(screen)
                    ),
                ).show()
            )
            return None
        if len(found) == 1:
            attach(found[0])
            return None
        options = [(c.id, f"{c.name} {c.member_code or ''}") for c in found[:8]]
        by_id = {c.id: c for c in found}
        later(
            lambda: ChoicePanel(
                router, _("Which customer?"), options, lambda cid: attach(by_id[cid])
            ).show()
        )
        return None

    if typed:
        search(typed)
        return
    current = service.customer
    if current is not None:
        actions = {
            "edit": lambda: edit(current),
            "delete": lambda: delete(current),
            "detach": lambda: attach(None),
            "other": lambda: later(lambda: _search_prompt(router, search)),
        }
        ChoicePanel(
            router,
            _("Customer {name}").format(name=current.name),
            [
                ("edit", _("Edit")),
                ("delete", _("Delete")),
                ("detach", _("Not this customer")),
                ("other", _("Another customer")),
            ],
            lambda key: actions[key](),
        ).show()
        return
    _search_prompt(router, search)


def _search_prompt(router, search) -> None:
    EntryPanel(
        router,
        _("Customer: scan the member card, or type phone or name"),
        search,
        letters=True,
        accept_scans=True,
    ).show()


def _prefilled(panel: EntryPanel, value: str) -> None:
    panel.value = value
    panel.show()
