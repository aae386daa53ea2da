"""The courier interface over Biteship (biteship.com), an Indonesian shipping aggregator.

Why Biteship: its order API is documented in public (no sales contact needed to read
it), one contract reaches JNE, J&T, SiCepat, AnterAja and Ninja with the same request,
and it answers the courier's airway bill in the order's answer. Pages used:

- https://biteship.com/en/docs/api/orders/create - ``POST /v1/orders``: the origin's and
  destination's ``*_contact_name``, ``*_contact_phone``, ``*_address``,
  ``*_postal_code`` (a number), ``courier_company``, ``courier_type``, ``delivery_type``
  (``now``), ``reference_id`` and ``items`` (name, value, quantity, weight in grams);
- https://biteship.com/docs/api/orders/overview - the order's answer and states (an
  order ``confirmed`` has its AWB: ``courier.waybill_id``, beside ``courier.tracking_id``
  and the order's ``id``);
- https://biteship.com/en/docs/api/orders/error - refusals as
  ``{"success": false, "error": "...", "code": 40002xxx}`` (400), e.g. 40002020 "Failed
  due to invalid or missing postal code".

The API key goes in the ``Authorization`` header as it is (Biteship's docs: "authorization:
biteship_live...."). It is never logged, nor put in an exception's text.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from fleet.shipping.courier import (
    AwbResult,
    CourierDown,
    CourierRefused,
    CourierUnsure,
    ShipmentRequest,
)

# the aggregator's answers that say nothing was taken (ask again later)
NOT_TAKEN = (408, 429, 503)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is refused: urllib would follow it as a GET with the Authorization
    header (the API key) sent to wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirected ({msg})", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirects)

DEFAULT_URL = "https://api.biteship.com"


class BiteshipCourier:
    def __init__(self, url: str, api_key: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/") + "/v1/orders"
        self._key = api_key
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"BiteshipCourier({self.url!r})"  # (not the key)

    def body(self, request: ShipmentRequest) -> dict:
        o, d = request.origin, request.destination
        return {
            "origin_contact_name": o.name,
            "origin_contact_phone": o.phone,
            "origin_address": o.address,
            "origin_postal_code": int(o.postal_code),
            "destination_contact_name": d.name,
            "destination_contact_phone": d.phone,
            "destination_address": d.address,
            "destination_postal_code": int(d.postal_code) if d.postal_code else None,
            "courier_company": request.courier,
            "courier_type": request.service,
            "delivery_type": "now",
            "reference_id": request.reference,
            "items": [
                {
                    "name": item.name,
                    "sku": item.sku,
                    "value": item.value,
                    "quantity": item.quantity,
                    "weight": item.weight,
                }
                for item in request.items
            ],
        }

    def create_order(self, request: ShipmentRequest) -> AwbResult:
        call = urllib.request.Request(
            self.url,
            data=json.dumps(self.body(request)).encode(),
            headers={
                "Authorization": self._key,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with _OPENER.open(call, timeout=self.timeout) as answer:
                data = _json(answer.read())
        except urllib.error.HTTPError as exc:
            if exc.code in NOT_TAKEN:
                raise CourierDown(f"Biteship answered {exc.code}") from None
            if exc.code >= 500:
                raise CourierUnsure(f"Biteship answered {exc.code}") from None
            data = _json(exc.read(), CourierRefused)
            message = str(data.get("error") or data.get("message") or f"HTTP {exc.code}")
            raise CourierRefused(message[:500], str(data.get("code", exc.code))) from None
        except urllib.error.URLError as exc:  # no connection: nothing was sent
            raise CourierDown(f"Biteship unreachable: {type(exc.reason).__name__}") from None
        except (TimeoutError, ConnectionError) as exc:  # sent, no answer: it may exist
            raise CourierUnsure(f"no answer from Biteship: {type(exc).__name__}") from None
        if data.get("success") is False:
            raise CourierRefused(str(data.get("error", "refused"))[:500], str(data.get("code", "")))
        courier = data.get("courier") or {}
        waybill = str(courier.get("waybill_id") or "").strip()
        if not waybill:
            # the order exists at Biteship: asking again would make a second one
            raise CourierRefused("the order was made without an airway bill yet")
        return AwbResult(waybill, str(data.get("id", "")), str(courier.get("tracking_id", "")))


def _json(raw: bytes, failure: type[Exception] = CourierUnsure) -> dict:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise failure("Biteship answered something that is not JSON") from None
    return data if isinstance(data, dict) else {}
