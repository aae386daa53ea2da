"""A browser's part, for the console's HTTP tests: Starlette's TestClient signed in."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    return CSRF.search(html)[1]


def signed_in(app, name: str, password: str, *, https: bool = False, **options) -> TestClient:
    """``https``: as a browser over TLS (a console whose cookies are secure, the
    default); ``options``: the TestClient's (``follow_redirects=False`` for pages whose
    answers are redirects to look at)."""
    base_url = "https://testserver" if https else "http://testserver"
    client = TestClient(app, base_url=base_url, **options)
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"csrf": csrf_of(form.text), "name": name, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client
