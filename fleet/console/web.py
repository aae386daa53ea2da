"""What every page of the console shares: the request's session and viewer, the
translator and money formats, rendering, and the checks every change goes through.

A page module (:mod:`fleet.console.pages`) writes its handlers with :func:`page` (a GET
that needs a signed-in viewer who sees ``part``) and :func:`action` (a POST that also
needs the session's CSRF token and the right to ``change``). The database work runs in
a worker thread (peewee is synchronous); the handlers are async only to read the form.
"""

from __future__ import annotations

import asyncio
import gettext as gettext_module
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial, wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import peewee
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from fleet.config import ConsoleSettings
from fleet.console import accounts
from fleet.console.access import ORDER_PARTS, Forbidden, NotFound, Viewer
from fleet.console.labels import labeller
from terminal.core.money import CURRENCIES, Currency
from terminal.i18n import translator

TEMPLATES = Path(__file__).parent / "templates"
COOKIE = "pos_console"
LOGIN_COOKIE = "pos_console_login"  # the sign-in form's own CSRF token (double submit)
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Console:
    """The application's state: its database, settings, clock and templates."""

    db: peewee.Database
    settings: ConsoleSettings
    clock: Callable[[], datetime] = utcnow
    cost: accounts.Argon2Cost = accounts.DEFAULT_COST
    live_every: float = 1.0  # seconds between looks for new sales (server-sent events)
    operations: Any = None  # fleet.console.operations.Operations: the admin's changes
    payments: Any = None  # fleet.console.pages.payments.PaymentsDesk: online orders on
    env: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )


@dataclass(frozen=True)
class Context:
    """One request's view of the console: who asks, in which language."""

    console: Console
    request: Request
    session: accounts.Session | None
    viewer: Viewer | None
    language: str

    @property
    def db(self) -> peewee.Database:
        return self.console.db

    def now(self) -> datetime:
        return self.console.clock()

    @property
    def address(self) -> str:
        return client_address(self.request, self.console.settings)

    def translations(self) -> gettext_module.NullTranslations:
        return translator(self.language)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(
            self.render_text(template, **values), status_code=status, headers=SECURITY_HEADERS
        )

    def render_text(self, template: str, **values: Any) -> str:
        """A template as text (a whole page, or a live section's fragment)."""
        t = self.translations()
        return self.console.env.get_template(template).render(
            _=t.gettext,
            ngettext=t.ngettext,
            label=labeller(t.gettext),
            money=money,
            viewer=self.viewer,
            csrf=self.session.csrf if self.session else "",
            path=self.request.url.path,
            payments_on=self.console.payments is not None,  # online orders on
            order_parts=ORDER_PARTS,
            language=self.language,
            languages=LANGUAGES,
            **values,
        )


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def money(amount: int | None, code: str = "IDR") -> str:
    if not isinstance(amount, int) or isinstance(amount, bool):
        return "" if amount is None else str(amount)
    found: Currency | None = CURRENCIES.get(code)
    return found.format(amount) if found else f"{amount} {code}"


def client_address(request: Request, settings: ConsoleSettings) -> str:
    """The client's address: the peer's, or (from a trusted reverse proxy) the last
    address it added to X-Forwarded-For."""
    peer = request.client.host if request.client else ""
    if peer in settings.trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:64]
    return peer


def _context(console: Console, request: Request) -> Context:
    token = request.cookies.get(COOKIE)
    session = accounts.session_for(console.db, token, console.clock())
    viewer = (
        Viewer.of(session.account, owner_proposals=console.settings.owner_proposals)
        if session
        else None
    )
    language = session.account.language if session else console.settings.language
    return Context(console, request, session, viewer, language)


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = quote(request.url.path + ("?" + request.url.query if request.url.query else ""))
    return RedirectResponse(f"/login?next={target}", status_code=303)


Handler = Callable[..., Response]


def _errors(ctx: Context, call: Callable[[], Response]) -> Response:
    t = ctx.translations()
    try:
        return call()
    except NotFound:
        return ctx.render("error.html", 404, message=t.gettext("There is nothing here."))
    except Forbidden:
        return ctx.render(
            "error.html", 403, message=t.gettext("Your account may not make this change.")
        )


def page(part: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A GET page for viewers who see ``part``: ``handler(ctx, **path_params)``."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            console: Console = request.app.state.console

            def run() -> Response:
                ctx = _context(console, request)
                if ctx.viewer is None:
                    return sign_in_redirect(request)

                def call() -> Response:
                    ctx.viewer.require_part(part)
                    return handler(ctx, **request.path_params)

                return _errors(ctx, call)

            return await run_in_threadpool(run)

        return endpoint

    return wrap


def action(
    change: str | tuple[str, ...],
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A POST for viewers who may ``change`` (one of them, given several): checked
    before the form is looked at (a read-only role's crafted request gets 403), then the
    CSRF token (the session's, in the form's ``csrf`` field).
    ``handler(ctx, form, **path_params)``."""
    changes = (change,) if isinstance(change, str) else change

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            console: Console = request.app.state.console
            ctx = await run_in_threadpool(_context, console, request)
            if ctx.viewer is None:
                return Response("sign in first", status_code=401)
            if not any(ctx.viewer.may(c) for c in changes):
                return _errors(ctx, partial(ctx.viewer.require_change, changes[0]))
            form = await request.form()
            if not secrets.compare_digest(str(form.get("csrf", "")), ctx.session.csrf):
                return Response("the form is out of date: reload the page", status_code=403)
            return await run_in_threadpool(
                _errors, ctx, lambda: handler(ctx, form, **request.path_params)
            )

        return endpoint

    return wrap


# -- live sections (server-sent events) ---------------------------------------------------------
HEARTBEAT = 15.0  # seconds: a comment line keeps proxies from closing a quiet stream


def _event(name: str, html: str) -> str:
    lines = html.splitlines() or [""]
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


def live(
    part: str,
    version: Callable[[Context], Any],
    fragment: Callable[[Context], str],
) -> Callable[[Request], Awaitable[Response]]:
    """An event stream for a page's live section: every ``live_every`` seconds the
    session is looked at again (signed out, or no longer allowed: ``signed-out`` and the
    end) and ``version(ctx)`` asked; at the first look, and whenever it changed since,
    ``fragment(ctx)`` is sent as an ``update`` event (the page's ``static/live.js`` puts
    it in place). Both run with the viewer as it is at that moment, in a worker thread."""

    async def endpoint(request: Request) -> Response:
        console: Console = request.app.state.console
        ctx = await run_in_threadpool(_context, console, request)
        if ctx.viewer is None or not ctx.viewer.sees(part):
            return Response("sign in first", status_code=401)

        async def stream():
            # nothing taken as shown: the first look sends the section (what changed
            # between the page's rendering and this stream's start is not missed)
            shown: Any = object()
            quiet = 0.0
            while not await request.is_disconnected():
                await asyncio.sleep(console.live_every)
                quiet += console.live_every
                now = await run_in_threadpool(_context, console, request)
                if now.viewer is None or not now.viewer.sees(part):
                    yield "event: signed-out\ndata: \n\n"
                    return
                seen = await run_in_threadpool(version, now)
                if seen != shown:
                    shown = seen
                    yield _event("update", await run_in_threadpool(fragment, now))
                    quiet = 0.0
                elif quiet >= HEARTBEAT:
                    yield ": still here\n\n"
                    quiet = 0.0

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    return endpoint
