"""Every device kind shares one lifecycle (start, stop, close, health, ``with``), and its
backends come from one table per kind, each with typed settings."""

from __future__ import annotations

import pytest

from hal import card, drawer, keypad, scanner
from hal.device import Device, DeviceConfigError, DeviceEnv, InputDevice, build, configure
from hal.printer import backends as printer

BUILDABLE_HERE = [
    (printer, "printer", {"backend": "simulator"}),
    (printer, "printer", {"backend": "dummy"}),
    (drawer, "drawer", {"backend": "simulator"}),
    (drawer, "drawer", {"backend": "gpio", "pin_factory": "mock", "sensor_pin": 27}),
    (scanner, "scanner", {"backend": "wedge"}),
    (scanner, "scanner", {"backend": "simulator"}),
    (keypad, "keypad", {"backend": "keyboard"}),
    (keypad, "keypad", {"backend": "simulator"}),
    (
        keypad,
        "keypad",
        {
            "backend": "matrix",
            "rows": [5, 6],
            "cols": [12, 16],
            "pin_factory": "mock",
            "keys": ["1", "2", "3", "enter"],
        },
    ),
    (card, "card", {"backend": "simulator", "approve_after": 0}),
]


@pytest.mark.parametrize(("module", "kind", "table"), BUILDABLE_HERE)
def test_every_backend_has_the_lifecycle(module, kind, table, tmp_path):
    config = configure(kind, table, module.BACKENDS, "simulator")
    device = build(config, module.BACKENDS, DeviceEnv(tmp_path))
    assert isinstance(device, Device) and device.kind == kind
    with device as running:
        assert running is device
        assert isinstance(device.health(), list)
        device.stop()
        device.start()  # stopped, it starts again
    assert device.closed
    device.close()  # closing twice is harmless


def test_input_devices_deliver_to_their_one_listener(tmp_path):
    pad = keypad.make_keypad({"backend": "simulator"}, tmp_path)
    assert isinstance(pad, InputDevice)
    got = []
    pad.listen(got.append)
    with pytest.raises(RuntimeError, match="not started"):
        pad.press("1")
    with pad:
        pad.press("1")
        pad.listen(None)  # nobody listening: dropped, never an error
        pad.press("2")
    assert got == ["1"]


def test_every_kind_lists_its_backends_in_one_table():
    for module, default in ((printer, "simulator"), (drawer, "simulator"), (scanner, "wedge"),
                            (keypad, "keyboard"), (card, "simulator")):  # fmt: skip
        assert default in module.BACKENDS
        with pytest.raises(DeviceConfigError, match="unknown 'teleport'; use"):
            configure("x", {"backend": "teleport"}, module.BACKENDS, default)
