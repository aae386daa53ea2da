"""Signing in and out."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fleet.console import accounts
from fleet.console.web import COOKIE, LOGIN_COOKIE, Console, _context


def _safe_next(target: str) -> str:
    """Only a path of this console (no //host, no scheme): an open redirect is refused.
    Control characters too: a browser drops a tab or a newline from a URL, so
    ``/<tab>/evil.example`` would be ``//evil.example`` wherever the target is used
    unquoted."""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
    ):
        return target
    return "/"


async def login_form(request: Request) -> Response:
    console: Console = request.app.state.console
    ctx = await run_in_threadpool(_context, console, request)
    if ctx.viewer is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next", "/")), 303)
    return _login_page(ctx, request, "", "", 200)


def _login_page(ctx, request: Request, message: str, name: str, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = ctx.render(
        "login.html",
        status,
        message=message,
        name=name,
        next=_safe_next(request.query_params.get("next", "/")),
        login_csrf=token,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=ctx.console.settings.secure_cookies,
        path="/login",
    )
    return response


async def login(request: Request) -> Response:
    console: Console = request.app.state.console
    form = await request.form()
    ctx = await run_in_threadpool(_context, console, request)
    t = ctx.translations()
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(str(form.get("csrf", "")), expected):
        return _login_page(ctx, request, t.gettext("The page was out of date: try again."), "", 403)
    name = str(form.get("name", ""))[:100]
    result = await run_in_threadpool(
        accounts.sign_in,
        console.db,
        name,
        str(form.get("password", ""))[:1000],
        ctx.address,
        console.clock(),
        code=str(form.get("code", ""))[:10],
        cost=console.cost,
    )
    if result.token is None:
        if result.locked_for:
            message = t.gettext("Too many wrong attempts: try again in {n} s.").format(
                n=result.locked_for
            )
            return _login_page(ctx, request, message, name, 429)
        message = t.gettext("Wrong name, password or code.")
        return _login_page(ctx, request, message, name, 401)
    target = _safe_next(str(form.get("next", "/")))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        result.token,
        httponly=True,
        samesite="strict",
        secure=console.settings.secure_cookies,
        max_age=int(accounts.LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    console: Console = request.app.state.console
    ctx = await run_in_threadpool(_context, console, request)
    form = await request.form()
    if ctx.session is not None:
        if not secrets.compare_digest(str(form.get("csrf", "")), ctx.session.csrf):
            return Response("the form is out of date: reload the page", status_code=403)
        await run_in_threadpool(
            accounts.sign_out, console.db, ctx.session, ctx.address, console.clock()
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


async def home(request: Request) -> Response:
    console: Console = request.app.state.console
    ctx = await run_in_threadpool(_context, console, request)
    if ctx.viewer is None:
        return RedirectResponse("/login", status_code=303)
    for part, href in (("sales", "/sales"), ("reports", "/reports"), ("journal", "/journal")):
        if ctx.viewer.sees(part):
            return RedirectResponse(href, status_code=303)
    return RedirectResponse("/terminals", status_code=303)


ROUTES = [
    Route("/", home),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
