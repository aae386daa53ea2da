"""PosAPI 3.0's REST interface (Mongolia's e-barimt), as the terminal calls it: the
tax office's service runs in the shop (default port 7080) and answers JSON.

``POST /rest/receipt`` registers a receipt, ``DELETE /rest/receipt`` takes one back,
``GET /rest/info`` says the service's state, ``GET /rest/sendData`` pushes its queue to
the tax office. Only the standard library's HTTP client: one request at a time, with a
timeout, on loopback or the shop's LAN.

Nothing here logs a body: an answer carries the lottery number and the QR data, which
may only ever be printed.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


class PosApiUnavailable(Exception):
    """No answer that can be read: the service is down, did not answer in time, or sent
    something that is not JSON. ``sent``: the request may have reached it (the outcome
    is unknown; the same request, never another, is sent again)."""

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        self.sent = sent


class PosApiClient:
    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url!r}: expected http://HOST:PORT")
        self.host = parts.hostname
        self.port = parts.port or 7080
        self.timeout = timeout

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def request(self, method: str, path: str, body: dict | None = None) -> object:
        """One call; its JSON answer (None for an empty one)."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        sent = False
        try:
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            sent = True
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            what = type(exc).__name__
            raise PosApiUnavailable(f"PosAPI at {self.url}: {what}: {exc}", sent=sent) from None
        finally:
            conn.close()
        if response.status >= 500:
            raise PosApiUnavailable(f"PosAPI at {self.url}: HTTP {response.status}", sent=True)
        if not raw.strip():
            if response.status >= 400:
                raise PosApiUnavailable(f"PosAPI: HTTP {response.status}", sent=True)
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise PosApiUnavailable(
                f"PosAPI at {self.url}: HTTP {response.status}, not JSON", sent=True
            ) from None

    def register(self, receipt: dict) -> object:
        return self.request("POST", "/rest/receipt", receipt)

    def delete(self, bill_id: str, date: str) -> object:
        return self.request("DELETE", "/rest/receipt", {"id": bill_id, "date": date})

    def info(self) -> object:
        return self.request("GET", "/rest/info")

    def send_data(self) -> object:
        return self.request("GET", "/rest/sendData")
