"""A named pipe a simulator device reads lines from, so a technician (or a test in
another process) can play the device from a shell: ``echo 8991002101111 > var/sim/scanner``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path


class PipeReader:
    """Reads ``path`` (made a FIFO if it is not one) line by line on a thread of its own,
    handing each stripped, non-empty line to ``on_line``."""

    def __init__(self, path: Path, on_line: Callable[[str], None], name: str) -> None:
        self.path, self.on_line, self.name = Path(path), on_line, name
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not stat.S_ISFIFO(self.path.stat().st_mode):
            # a plain file here (an `echo > pipe` while the app was down) would be read
            # again and again: replace it with the pipe
            self.path.unlink()
        if not self.path.exists():
            os.mkfifo(self.path)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._read, daemon=True, name=self.name)
        self._thread.start()

    def stop(self) -> None:
        """End the reader: it may be waiting for a writer to open the pipe, so one opens
        it (without blocking) and closes it at once; the reader sees the end and stops."""
        if self._thread is None:
            return
        self._stopping.set()
        deadline = time.monotonic() + 5
        while self._thread.is_alive() and time.monotonic() < deadline:
            # poked until the reader is gone: one that had not reached its open() yet
            # when first poked would otherwise wait there for a writer that never comes
            with contextlib.suppress(OSError):  # no reader waiting yet: try again
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
            self._thread.join(timeout=0.05)
        self._thread = None

    def _read(self) -> None:
        while not self._stopping.is_set():
            with open(self.path, encoding="utf-8", errors="replace") as pipe:
                for line in pipe:
                    if self._stopping.is_set():
                        return
                    if line.strip():
                        self.on_line(line.strip())
