"""A ZVT authorisation round trip against the simulator over a pseudo-terminal (its delay
at zero), against a bare pyserial echo of the same number of bytes over a pty.

The ZVT exchange is 1 command + 80 00 00 + status information + 4 print lines +
completion, each framed, CRC'd, ACKed at the link and acknowledged with 80 00 00: the
ratio is the protocol's cost over just moving bytes through a tty.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import tty
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import serial

from hal.card.zvt.link import SerialLink
from hal.card.zvt.simulator import Script, ZvtSimulator

# BENCH_QUICK=1: a few rounds only, so the tests can check that the benchmark runs
QUICK = os.environ.get("BENCH_QUICK") == "1"
ROUNDS = 5 if QUICK else 200


def zvt_rounds() -> tuple[list[float], int]:
    sim = ZvtSimulator(Script(delay=0.0))
    link = SerialLink(sim.start_pty(), ack_timeout=2.0, t3=2.0, t4=5.0)
    wire = 0
    original = link.transport._write

    def counting(data: bytes) -> None:
        nonlocal wire
        wire += len(data)
        original(data)

    link.transport._write = counting
    times = []
    for n in range(ROUNDS):
        start = time.perf_counter()
        assert link.client.authorise(1000 + n).approved
        times.append(time.perf_counter() - start)
    link.close()
    sim.stop()
    return times, wire // ROUNDS


def echo_rounds(nbytes: int) -> list[float]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    port = serial.Serial(os.ttyname(slave), baudrate=9600, timeout=1)
    stop = threading.Event()

    def echo() -> None:
        while not stop.is_set():
            data = os.read(master, 4096)
            os.write(master, data)

    threading.Thread(target=echo, daemon=True).start()
    payload = bytes(range(256)) * (nbytes // 256 + 1)
    payload = payload[:nbytes]
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        port.write(payload)
        got = b""
        while len(got) < nbytes:
            got += port.read(nbytes - len(got))
        times.append(time.perf_counter() - start)
    stop.set()
    port.close()
    return times


def main() -> None:
    zvt, sent = zvt_rounds()
    echo = echo_rounds(sent)
    z, e = statistics.median(zvt) * 1000, statistics.median(echo) * 1000
    print(
        f"ZVT authorisation over a pty, simulator delay 0, {ROUNDS} rounds "
        f"({sent} bytes sent by the register per round)"
    )
    print(f"  bare pyserial echo of {sent} bytes : median {e:.2f} ms")
    print(f"  ZVT authorisation round trip      : median {z:.2f} ms   ratio {z / e:.1f}x")


if __name__ == "__main__":
    main()
