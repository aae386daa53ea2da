"""The fiscal service: where a shop's receipts are registered with the tax office.

Backends (``[hardware.fiscal] backend``):
- ``none``: no fiscal receipts (Indonesia and China here: the receipt is the record).
- ``ebarimt``: Mongolia's PosAPI 3.0, the tax office's service running in the shop,
  over its REST interface (``url``, default http://127.0.0.1:7080).
- ``simulator``: the PosAPI simulator (:mod:`hal.fiscal.simulator`) started in-process
  on a free loopback port and called over the very same HTTP as ``ebarimt``.

The merchant's identity (``merchant_tin``, ``branch_no``, ``pos_no``, ``district_code``)
and the exemption codes of the VAT-free tax classes (``tax_product_codes``) are the
backend's settings: they are what the tax office registered for this till. What a
receipt says is built by :mod:`terminal.core.ebarimt`; this package only carries it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec

from hal.device import Backend, BackendSettings, Device, DeviceConfig, DeviceEnv, build, configure
from hal.fiscal.posapi import PosApiClient, PosApiUnavailable
from hal.fiscal.simulator import PosApiSimulator

__all__ = ["BACKENDS", "FiscalService", "PosApiUnavailable", "make_fiscal"]

Tin = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{11,14}$")]


class NoFiscalSettings(BackendSettings, kw_only=True):
    pass


class EbarimtSettings(BackendSettings, kw_only=True):
    url: str = "http://127.0.0.1:7080"
    merchant_tin: Tin  # the shop's TIN as registered on PosAPI
    branch_no: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{3}$")] = "001"
    pos_no: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    district_code: Annotated[str, msgspec.Meta(pattern=r"^([0-9]{4})?$")] = ""
    # a VAT-free (or 0 %) tax class -> the legal exemption code its goods carry
    tax_product_codes: dict[str, str] = msgspec.field(default_factory=dict)
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0  # per request
    retry_seconds: Annotated[float, msgspec.Meta(ge=5, le=3600)] = 60.0  # pending receipts

    def __post_init__(self) -> None:
        try:
            PosApiClient(self.url)
        except ValueError as exc:
            raise ValueError(f"url: {exc}") from None


class SimulatorFiscalSettings(EbarimtSettings, kw_only=True):
    url: str = "http://127.0.0.1:0"  # the simulator's own port, chosen when it starts
    merchant_tin: Tin = "12345678901"
    pos_no: Annotated[str, msgspec.Meta(min_length=1, max_length=20)] = "10012619"
    refuse: str = ""  # the simulated service refuses every receipt with this message


class FiscalService(Device):
    """A registrar of receipts. ``enabled`` is False for ``none``."""

    kind = "fiscal"
    enabled = False
    settings: Any = None

    def register(self, receipt: dict) -> object:
        raise PosApiUnavailable("no fiscal service is configured")

    def delete(self, bill_id: str, date: str) -> object:
        raise PosApiUnavailable("no fiscal service is configured")

    def info(self) -> object:
        return None


class PosApi(FiscalService):
    """PosAPI over HTTP (``ebarimt``)."""

    enabled = True

    def __init__(self, settings: EbarimtSettings, client: PosApiClient | None = None) -> None:
        self.settings = settings
        self.client = client or PosApiClient(settings.url, timeout=settings.timeout_seconds)

    def register(self, receipt: dict) -> object:
        return self.client.register(receipt)

    def delete(self, bill_id: str, date: str) -> object:
        return self.client.delete(bill_id, date)

    def info(self) -> object:
        return self.client.info()

    def send_data(self) -> object:
        return self.client.send_data()

    def health(self) -> list[str]:
        try:
            self.client.info()
        except PosApiUnavailable:
            return ["fiscal-offline"]
        return []


class SimulatedPosApi(PosApi):
    """The simulator in this process, reached over loopback HTTP as ``ebarimt`` is."""

    def __init__(self, settings: SimulatorFiscalSettings) -> None:
        self.simulator = PosApiSimulator(merchant_tin=settings.merchant_tin).start()
        self.simulator.refuse = settings.refuse or None
        super().__init__(
            settings, PosApiClient(self.simulator.url, timeout=settings.timeout_seconds)
        )

    def close(self) -> None:
        self.simulator.stop()
        super().close()


BACKENDS: dict[str, Backend] = {
    "none": Backend(NoFiscalSettings, lambda s, env: FiscalService()),
    "ebarimt": Backend(EbarimtSettings, lambda s, env: PosApi(s)),
    "simulator": Backend(SimulatorFiscalSettings, lambda s, env: SimulatedPosApi(s)),
}


def configure_fiscal(table: dict[str, Any]) -> DeviceConfig:
    return configure("fiscal", table, BACKENDS, "none")


def make_fiscal(cfg: dict[str, Any] | DeviceConfig, data_dir: Path) -> FiscalService:
    config = cfg if isinstance(cfg, DeviceConfig) else configure_fiscal(cfg)
    return build(config, BACKENDS, DeviceEnv(data_dir))  # type: ignore[return-value]
