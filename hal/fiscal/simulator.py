"""A PosAPI 3.0 simulator: the tax office's local service as ``make run``, technicians
and the tests meet it, over real HTTP on loopback, answering the same JSON.

It checks what the real service is documented to check (required fields, receipt and
tax types, a buyer's TIN only on B2B, sub-receipts adding up, the merchant it serves,
the receipt a correction names) and answers as it does: a 33-digit ДДТД, the print date,
a lottery number for B2C receipts (none for B2B, none for a correction), QR data.
A repeated ``billIdSuffix`` from the same till on the same day is answered with the
receipt it already made: the guide makes the suffix unique per day, and the terminal
sends one sale's request again, never a new one, when an answer was lost.

Faults, for the tests and for trying the terminal's behaviour: :attr:`refuse` (every
receipt refused with that message), :attr:`http_error` (an HTTP status instead of an
answer), :attr:`delay` (seconds before the answer leaves, the work done), and :meth:`stop`
(the service down).

Run alone: ``python -m hal.fiscal.simulator --port 7080 --tin 12345678901``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

RECEIPT_TYPES = ("B2C_RECEIPT", "B2B_RECEIPT", "B2C_INVOICE", "B2B_INVOICE")
TAX_TYPES = ("VAT_ABLE", "VAT_FREE", "VAT_ZERO", "NO_VAT")
TOP_REQUIRED = ("branchNo", "merchantTin", "posNo", "receipts", "totalAmount", "type")
SUB_REQUIRED = ("items", "merchantTin", "taxType", "totalAmount")
ITEM_REQUIRED = ("name", "measureUnit", "qty", "unitPrice", "totalAmount")


class Refusal(Exception):
    """An answer with status ERROR (HTTP ``code``)."""

    def __init__(self, message: str, code: int = 200) -> None:
        super().__init__(message)
        self.code = code


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refusal(f"not a number: {value!r}", 400)
    return float(value)


class PosApiSimulator:
    def __init__(
        self,
        *,
        merchant_tin: str = "12345678901",
        operator: str = "ПосАПИ симулятор",
        host: str = "127.0.0.1",
        port: int = 0,
        clock=datetime.now,
        rng: random.Random | None = None,
    ) -> None:
        self.merchant_tin = merchant_tin
        self.operator = operator
        self.host, self.port = host, port
        self.clock = clock
        self.rng = rng or random.Random()
        self.refuse: str | None = None
        self.http_error: int | None = None
        self.delay = 0.0
        self.receipts: dict[str, dict] = {}  # ДДТД -> the receipt as registered
        self.by_suffix: dict[tuple[str, str, str], dict] = {}  # (posNo, suffix, day)
        self.deleted: list[str] = []
        self.requests: list[tuple[str, str, object]] = []  # (method, path, body)
        self.left_lotteries = 5000
        self.last_sent = ""
        self._counter = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- the service's life -------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> PosApiSimulator:
        if self._server is None:
            self._server = ThreadingHTTPServer((self.host, self.port), self._handler())
            self._server.daemon_threads = True
            self.port = self._server.server_address[1]  # the same port after a restart
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="posapi-sim", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """The service down: the port refuses connections until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PosApiSimulator:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    # -- what it answers ----------------------------------------------------------------
    def answer(self, method: str, path: str, body: object) -> tuple[int, object]:
        with self._lock:
            self.requests.append((method, path, body))
            try:
                if path == "/rest/receipt" and method == "POST":
                    return 200, self._register(body)
                if path == "/rest/receipt" and method == "DELETE":
                    self._delete(body)
                    return 200, None
                if path == "/rest/info" and method == "GET":
                    return 200, self._info()
                if path == "/rest/sendData" and method == "GET":
                    self.last_sent = self._now()
                    return 200, {}
                return 404, {"status": "ERROR", "message": f"no service {method} {path}"}
            except Refusal as exc:
                return exc.code, {"status": "ERROR", "message": str(exc)}

    def _now(self) -> str:
        return self.clock().strftime("%Y-%m-%d %H:%M:%S")

    def _register(self, body: object) -> dict:
        if not isinstance(body, dict):
            raise Refusal("the request is not a JSON object", 400)
        for key in TOP_REQUIRED:
            if body.get(key) in (None, "", []):
                raise Refusal(f"{key}: required", 400)
        if body["type"] not in RECEIPT_TYPES:
            raise Refusal(f"type: {body['type']!r} is not a receipt type", 400)
        if body["merchantTin"] != self.merchant_tin:
            raise Refusal(f"merchant {body['merchantTin']} is not registered on this PosAPI")
        if self.refuse:
            raise Refusal(self.refuse)
        b2b = body["type"].startswith("B2B")
        buyer = body.get("customerTin")
        if b2b and not (isinstance(buyer, str) and buyer.isdigit() and 11 <= len(buyer) <= 14):
            raise Refusal("customerTin: a B2B receipt needs the buyer's TIN")
        if not b2b and buyer:
            raise Refusal("customerTin: only for B2B receipts")
        receipts = body["receipts"]
        if not isinstance(receipts, list):
            raise Refusal("receipts: expected a list", 400)
        total = 0.0
        for i, sub in enumerate(receipts):
            if not isinstance(sub, dict):
                raise Refusal(f"receipts[{i}]: expected an object", 400)
            for key in SUB_REQUIRED:
                if sub.get(key) in (None, "", []):
                    raise Refusal(f"receipts[{i}].{key}: required", 400)
            if sub["taxType"] not in TAX_TYPES:
                raise Refusal(f"receipts[{i}].taxType: {sub['taxType']!r}", 400)
            items_total = 0.0
            for j, item in enumerate(sub["items"]):
                for key in ITEM_REQUIRED:
                    if not isinstance(item, dict) or item.get(key) in (None, ""):
                        raise Refusal(f"receipts[{i}].items[{j}].{key}: required", 400)
                amount = _number(item["totalAmount"])
                if abs(_number(item["qty"]) * _number(item["unitPrice"]) - amount) > 0.5:
                    raise Refusal(f"receipts[{i}].items[{j}]: qty x unitPrice != totalAmount")
                items_total += amount
            if abs(items_total - _number(sub["totalAmount"])) > 0.005:
                raise Refusal(f"receipts[{i}].totalAmount: the items add up to {items_total}")
            total += _number(sub["totalAmount"])
        if abs(total - _number(body["totalAmount"])) > 0.005:
            raise Refusal(f"totalAmount: the receipts add up to {total}")
        now = self._now()
        key = (str(body["posNo"]), str(body.get("billIdSuffix", "")), now[:10])
        if key[1] and key in self.by_suffix:  # the same receipt sent again
            return self.by_suffix[key]
        replaces = body.get("inactiveId")
        if replaces:
            old = self.receipts.get(replaces)
            if old is None or old["inactive"]:
                raise Refusal(f"inactiveId: no active receipt {replaces}")
            old["inactive"] = True
        self._counter += 1
        day = self.clock().strftime("%y%m%d")
        bill_id = f"{self.merchant_tin[:11]:0>11}{str(body['posNo'])[-8:]:0>8}{day}"
        bill_id += f"{self._counter:08d}"
        lottery = ""
        if not b2b and not replaces:
            letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
            lottery = f"{letters} {self.rng.randrange(10**8):08d}"
            self.left_lotteries -= 1
        answer = {
            "id": bill_id,
            "posId": 10012619,
            "status": "SUCCESS",
            "message": "",
            "qrData": "".join(str(self.rng.randrange(10)) for _ in range(190)),
            "lottery": lottery,
            "date": now,
            "easy": False,
            "receipts": [
                {"id": f"{bill_id[:-2]}{i:02d}", "bankAccountId": None}
                for i, _ in enumerate(receipts, start=1)
            ],
        }
        self.receipts[bill_id] = {"request": body, "answer": answer, "inactive": False}
        if key[1]:
            self.by_suffix[key] = answer
        return answer

    def _delete(self, body: object) -> None:
        if not isinstance(body, dict) or not body.get("id") or not body.get("date"):
            raise Refusal("id and date: required", 400)
        found = self.receipts.get(body["id"])
        if found is None:
            raise Refusal(f"no receipt {body['id']}", 404)
        if found["answer"]["date"] != body["date"]:
            raise Refusal(f"date: receipt {body['id']} was printed {found['answer']['date']}")
        if not found["inactive"]:  # a second DELETE (a lost answer) changes nothing
            found["inactive"] = True
            self.deleted.append(body["id"])

    def _info(self) -> dict:
        return {
            "operatorName": self.operator,
            "operatorTIN": "00000000000",
            "posId": 10012619,
            "posNo": "10012619",
            "version": "3.2.39-sim",
            "lastSentDate": self.last_sent,
            "leftLotteries": self.left_lotteries,
            "appInfo": {"applicationDir": "", "currentDir": "", "database": "QSQLITE"},
            "merchants": [{"name": "Simulated merchant", "tin": self.merchant_tin}],
        }

    def active(self) -> list[str]:
        """The bills that stand (neither deleted nor replaced)."""
        return [bid for bid, r in self.receipts.items() if not r["inactive"]]

    def _handler(self):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if sim.http_error:
                    code, answer = sim.http_error, None
                else:
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError:
                        code, answer = 400, {"status": "ERROR", "message": "not JSON"}
                    else:
                        code, answer = sim.answer(self.command, self.path, body)
                data = b"" if answer is None else json.dumps(answer, ensure_ascii=False).encode()
                if sim.delay:  # done, but the answer is late: a caller may give up first
                    time.sleep(sim.delay)
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the caller gave up
                    self.close_connection = True

            do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's names

            def log_message(self, format: str, *args) -> None:
                log.debug("posapi-sim: " + format, *args)  # the line only, never a body

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=7080)
    parser.add_argument("--tin", default="12345678901", help="the merchant it serves")
    args = parser.parse_args()
    sim = PosApiSimulator(merchant_tin=args.tin, port=args.port).start()
    print(f"PosAPI simulator on {sim.url} for merchant {sim.merchant_tin}; Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
