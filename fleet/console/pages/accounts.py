"""Accounts: for fleet admins, every account (add, disable or enable, a new password)
and the audit trail of the console's sign-ins and changes; for everyone, their own
account (a new password, a second factor). The same rules as ``pos-fleet account``
(:mod:`fleet.console.accounts`); a password is never shown, logged or audited."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet.console import accounts
from fleet.console.access import Forbidden, NotFound
from fleet.console.web import COOKIE, LANGUAGES, Context, action, page


def _accounts_page(ctx: Context, status: int = 200, problem: str = "", form=None) -> Response:
    who = ctx.request.query_params.get("account", "")[:64]
    return ctx.render(
        "accounts.html",
        status,
        accounts=accounts.list_accounts(ctx.db),
        stores=lambda a: sorted(accounts.account_stores(a) or []),
        trail=accounts.audit_trail(ctx.db, who),
        who=who,
        roles=accounts.ROLES,
        problem=problem,
        form=form or {},
    )


@page("accounts")
def accounts_page(ctx: Context) -> Response:
    return _accounts_page(ctx)


def _audit(ctx: Context, what: str, detail: str) -> None:
    accounts.audit(ctx.db, ctx.viewer.name, what, detail, ctx.address, ctx.now())


@action("accounts")
def account_add(ctx: Context, form) -> Response:
    name, role = str(form.get("name", "")).strip(), str(form.get("role", ""))
    stores = [s.strip() for s in str(form.get("stores", "")).split(",") if s.strip()]
    language = str(form.get("language", "en"))
    try:
        if language not in LANGUAGES:
            raise accounts.AccountError(f"language: one of {', '.join(LANGUAGES)}")
        accounts.add_account(
            ctx.db,
            name,
            role,
            str(form.get("password", "")),
            ctx.now(),
            stores=stores or None,
            language=language,
            cost=ctx.console.cost,
        )
    except accounts.AccountError as exc:
        return _accounts_page(ctx, 422, str(exc), form)
    _audit(ctx, "account added", f"{name} ({role}; stores {', '.join(stores) or 'all'})")
    return RedirectResponse("/accounts", status_code=303)


@action("accounts")
def account_change(ctx: Context, form, name: str, verb: str) -> Response:
    if accounts.get_account(ctx.db, name) is None:
        raise NotFound(name)
    try:
        if verb == "disable":
            if name == ctx.viewer.name:
                raise accounts.AccountError("you cannot disable your own account")
            accounts.disable_account(ctx.db, name)
        elif verb == "enable":
            accounts.enable_account(ctx.db, name)
        elif verb == "password":
            accounts.set_password(
                ctx.db, name, str(form.get("password", "")), cost=ctx.console.cost
            )
        else:
            raise NotFound(verb)
    except accounts.AccountError as exc:
        return _accounts_page(ctx, 422, str(exc))
    _audit(ctx, f"account {verb}", name)
    return RedirectResponse("/accounts", status_code=303)


# -- one's own account --------------------------------------------------------------------
def _own_page(ctx: Context, status: int = 200, problem: str = "", done: str = "") -> Response:
    account = accounts.get_account(ctx.db, ctx.viewer.name)
    secret = accounts.new_totp_candidate()
    return ctx.render(
        "account.html",
        status,
        account=account,
        stores=sorted(accounts.account_stores(account) or []),
        secret=secret,
        uri=accounts.totp_uri(secret, account.name),
        problem=problem,
        done=done,
    )


@page("self")
def own_account(ctx: Context) -> Response:
    return _own_page(ctx)


@action("self")
def own_change(ctx: Context, form, verb: str) -> Response:
    t = ctx.translations()
    name = ctx.viewer.name
    try:
        if verb == "password":
            if str(form.get("new", "")) != str(form.get("repeat", "")):
                raise accounts.AccountError(t.gettext("the two new passwords differ"))
            accounts.change_own_password(
                ctx.db,
                name,
                str(form.get("current", ""))[:1000],
                str(form.get("new", ""))[:1000],
                cost=ctx.console.cost,
            )
            _audit(ctx, "own password changed", "")
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(COOKIE)  # every session of the account ended
            return response
        if verb == "totp":
            accounts.confirm_totp(
                ctx.db, name, str(form.get("secret", "")), str(form.get("code", "")), ctx.now()
            )
            _audit(ctx, "own second factor set", "")
            return _own_page(ctx, done=t.gettext("The second factor is on."))
    except accounts.AccountError as exc:
        return _own_page(ctx, 422, str(exc))
    raise Forbidden(verb)


ROUTES = [
    Route("/accounts", accounts_page),
    Route("/accounts/add", account_add, methods=["POST"]),
    Route("/accounts/{name}/{verb}", account_change, methods=["POST"]),
    Route("/account", own_account),
    Route("/account/{verb}", own_change, methods=["POST"]),
]
