"""A stand-in for Biteship's order API (:mod:`fleet.shipping.biteship`), for ``make run``'s
demo and the tests: ``POST /v1/orders`` checked as Biteship documents it, answered with a
waybill in the chosen courier's real format (:mod:`terminal.core.couriers`), the same for
the same booking (derived from ``reference_id``), so a demo and a test are repeatable.

Its misbehaviours are switched by ``mode``: ``ok``; ``down`` (503, as a gateway in
trouble); ``refuse`` (400 with Biteship's error body); ``slow`` (answers after
``delay`` seconds, for the adapter's timeout). ``orders`` keeps every order it made.

    python -m fleet.shipping.simulator --port 8765
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUIRED = (
    ("origin_contact_name", 40002014, "Please make sure origin contact name is filled"),
    ("origin_contact_phone", 40002015, "Please make sure origin contact phone is filled"),
    ("origin_address", 40002016, "Please make sure origin address is filled"),
    ("destination_contact_name", 40002017, "Please make sure destination contact name is filled"),
    ("destination_contact_phone", 40002018, "Please make sure destination contact phone is filled"),
    ("destination_address", 40002019, "Please make sure destination address is filled"),
    ("origin_postal_code", 40002011, "Either origin needs to have postal code or coordinate"),
    (
        "destination_postal_code",
        40002010,
        "Either destination needs to have postal code or coordinate",
    ),
)
REFUSAL = (40002020, "Failed due to invalid or missing postal code.")


def waybill(courier: str, reference: str) -> str:
    """A number of the courier's form, always the same for one booking."""
    digits = str(int(hashlib.sha256(f"{courier}/{reference}".encode()).hexdigest(), 16))
    return {
        "jne": "0101" + digits[:11],
        "jnt": "JP" + digits[:10],
        "sicepat": "00" + digits[:10],
        "anteraja": "10" + digits[:12],
        "ninja": "NLIDAP" + digits[:10],
    }.get(courier, "SIM" + digits[:12])


class Simulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mode = "ok"
        self.delay = 1.0
        self.orders: list[dict] = []
        self._lock = threading.Lock()
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                simulator._post(self)

            def log_message(self, *_args) -> None:  # the demo's console stays quiet
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        if handler.path.rstrip("/") != "/v1/orders":
            return _answer(handler, 404, {"success": False, "error": "Not found", "code": 40400})
        if not handler.headers.get("Authorization"):
            return _answer(
                handler,
                401,
                {
                    "success": False,
                    "error": "Booking courier API Key is not found",
                    "code": 40002001,
                },
            )
        mode = self.mode
        if mode == "down":
            return _answer(handler, 503, {"success": False, "error": "Service Unavailable"})
        if mode == "slow":
            time.sleep(self.delay)
        try:
            body = json.loads(raw)
        except ValueError:
            return _answer(handler, 400, {"success": False, "error": "Invalid JSON", "code": 40000})
        for field, code, message in REQUIRED:
            if not body.get(field):
                return _answer(handler, 400, {"success": False, "error": message, "code": code})
        if mode == "refuse":
            code, message = REFUSAL
            return _answer(handler, 400, {"success": False, "error": message, "code": code})
        courier, reference = str(body.get("courier_company", "")), str(body.get("reference_id"))
        with self._lock:
            self.orders.append(body)
            number = len(self.orders)
        _answer(
            handler,
            200,
            {
                "success": True,
                "message": "Order successfully created",
                "object": "order",
                "id": f"sim-{number:06d}",
                "reference_id": reference,
                "courier": {
                    "tracking_id": f"simtrack-{number:06d}",
                    "waybill_id": waybill(courier, reference),
                    "company": courier,
                    "type": body.get("courier_type", ""),
                },
                "status": "confirmed",
            },
        )


def _answer(handler: BaseHTTPRequestHandler, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    # (the client may have given up waiting: slow)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        handler.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A Biteship order API stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--mode", choices=("ok", "down", "refuse", "slow"), default="ok")
    args = parser.parse_args(argv)
    simulator = Simulator(args.host, args.port)
    simulator.mode = args.mode
    print(f"Biteship simulator on {simulator.url} ({args.mode})", flush=True)
    try:
        simulator.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
