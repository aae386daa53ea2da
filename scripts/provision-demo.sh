#!/usr/bin/env bash
# `make provision-demo`: a terminal set up as a technician sets one up, on this machine
# (README "Setting up a terminal", "On one machine"): after `make fleet-broker` and
# `make fleet-serve` (the fleet's broker, its enrollment broker, the ingest and the
# enrollment service), this pushes the demo shop to the fleet (its products, a cashier
# and a supervisor with their PINs set centrally), writes a card for terminal T09 into
# var/fleet/T09-boot (standing for the SD card's boot partition), runs the first boot
# (the status ticket: var/fleet/T09/receipts/status-ticket.png), then starts the
# enrolled terminal with its agent. Sign in as cashier 1 (PIN 1357).
set -euo pipefail
py=$1
shift
fleet=(-m fleet.cli)
boot=var/fleet/T09-boot
data=var/fleet/T09
if [ ! -f var/fleet/signing/keylist.json ]; then
  echo "The fleet's signing keys (the root in var/fleet/root: off-line, in a shop chain)."
  "$py" "${fleet[@]}" keys init --root-dir var/fleet/root
fi
if [ ! -f "$data/enrolled" ]; then
  echo "The demo shop, signed and released to the fleet (products, taxes, cashiers)."
  "$py" - var/fleet/demo-shop.toml <<'PY'
import sys, tomllib
from pathlib import Path
import tomli_w
from terminal.config import shop_document
from terminal.services.demo import demo_products
with open("config/pos.toml", "rb") as fh:
    document = shop_document(tomllib.load(fh))
document["products"] = [
    {"sku": p.sku, "name": p.name, "price": p.price, "tax_class": p.tax_class,
     "barcodes": list(p.barcodes), "sold_by_weight": p.sold_by_weight,
     **({"plu": p.plu} if p.plu else {}), "category": p.category}
    for p in demo_products()
]
document["cashiers"] = [
    {"id": 1, "name": "Ani", "role": "cashier"},
    {"id": 2, "name": "Budi", "role": "supervisor"},
]
Path(sys.argv[1]).write_text(tomli_w.dumps(document))
PY
  echo 1357 | "$py" "${fleet[@]}" secret set --scope fleet --cashier 1 --stdin
  echo 2580 | "$py" "${fleet[@]}" secret set --scope fleet --cashier 2 --stdin
  "$py" "${fleet[@]}" config push --scope fleet var/fleet/demo-shop.toml --wait 10
  echo "The card for T09 (in $boot), then its first boot."
  mkdir -p "$boot"
  "$py" -m provisioning.cli card "$boot" --store "Toko Demo Sejahtera" \
    --terminal-name T09 --group demo --timezone Asia/Jakarta --locale id --key-protector file
  "$py" -m provisioning.cli firstboot --boot "$boot" --config "$data/pos.toml" \
    --template config/pos.toml --retry-for 30
  # a desk, not a kiosk: a window
  sed -i 's/^fullscreen = true/fullscreen = false/' "$data/pos.toml"
fi
"$py" -m terminal --config "$data/pos.toml" agent &
agent=$!
trap 'kill -TERM $agent 2>/dev/null; wait $agent 2>/dev/null || true' EXIT
echo "T09's agent runs; its configuration comes from the fleet within seconds."
"$py" - "$data/pos.toml" <<'PY'
import sys, time
from pathlib import Path
from terminal.config import load_settings
from terminal.services.bootstrap import build_terminal
from terminal.store import fleet_config
built = build_terminal(load_settings(Path(sys.argv[1])))  # its database, made
deadline = time.monotonic() + 60
while "fleet" not in fleet_config.state(built.pos.db).applied:
    if time.monotonic() > deadline:
        sys.exit("no configuration from the fleet in 60 s: does `make fleet-serve` run?")
    built.pos.fleet_config.poll()  # what the app does every second
    time.sleep(0.5)
print("the fleet's configuration is applied: the demo shop's products and cashiers")
PY
"$(dirname "$0")/run-simulator.sh" "$py" "$data/pos.toml" "$@"
