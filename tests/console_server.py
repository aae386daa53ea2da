"""The console served for real (uvicorn on a free loopback port, in a thread of the test's
process), for the browser tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import uvicorn

from tests.mosquitto import free_port


@dataclass
class Served:
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def serve(app) -> Served:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    return Served(server, thread, f"http://127.0.0.1:{port}")
