#!/usr/bin/env bash
# `make run-online`: seed 001's online shop on this machine, every part a real process:
#   Mosquitto (mutual TLS) on 127.0.0.1:8893          pos-fleet broker
#   the fleet: ingest, order desk, airway bills        pos-fleet serve ([orders] on)
#   the aggregator's simulator on 127.0.0.1:8765       python -m fleet.shipping.simulator
#   the console on http://127.0.0.1:8090               pos-fleet console
#   a CS desk's terminal T21 in "Toko Demo Sejahtera"  its agent, then the app (F4)
# Everything lives under var/online/ (delete it to start again; ONLINE_DIR, and
# ONLINE_BROKER_PORT, ONLINE_CONSOLE_PORT, ONLINE_COURIER_PORT put it elsewhere). The
# first time, the warehouse is stocked (pos-fleet orders seed) and three console accounts
# are made with one password you choose: admin, gudang (warehouse), keuangan (finance).
# With a display the app opens; without one a scripted online tour runs in it under
# Xvfb (a stock check, a booking and its slip), and everything stops after it.
set -euo pipefail
py=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
here=${ONLINE_DIR:-var/online}
broker_port=${ONLINE_BROKER_PORT:-8893}
console_port=${ONLINE_CONSOLE_PORT:-8090}
courier_port=${ONLINE_COURIER_PORT:-8765}
mkdir -p "$here"
here=$(cd "$here" && pwd)
fleet_toml=$here/fleet.toml
store="Toko Demo Sejahtera"
cat > "$fleet_toml" <<TOML
# the online shop's demo fleet (scripts/run-online-shop.sh); see config/fleet.toml
[database]
url = "sqlite:///$here/fleet.db"

[broker]
host = "127.0.0.1"
port = $broker_port
ca_file = "$here/pki/ca.crt"
cert_file = "$here/pki/fleet-ingest.crt"
key_file = "$here/pki/fleet-ingest.key"
client_id = "online-demo-1"

[pki]
dir = "$here/pki"

[local_broker]
dir = "$here/broker"
enroll_port = 0

[signing]
dir = "$here/signing"

[console]
port = $console_port
secure_cookies = false    # plain HTTP on this machine only: a demo, never production
language = "id"

[enrollment]
enabled = false

[orders]
enabled = true
deadline = "17:00"
warehouses = ["GUDANG"]
courier_api = "simulator"
courier_url = "http://127.0.0.1:$courier_port"
origin_name = "Toko Demo Sejahtera"
origin_phone = "021-5550123"
origin_address = "Jl. Merdeka No. 1, Jakarta Pusat"
origin_postal_code = "10110"
TOML
fleet() { "$py" -m fleet.cli "$@" --config "$fleet_toml"; }
# a service in the background: exec, so that the pid kept is the service's own
service() { exec "$py" -m fleet.cli "$@" --config "$fleet_toml"; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # (pos-fleet broker runs mosquitto as its child, which a TERM to it does not stop)
  pkill -TERM -f "mosquitto -c $here/broker/mosquitto.conf" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

if [ ! -f "$here/pki/broker.crt" ]; then
  fleet ca init
fi
service broker > "$here/broker.log" 2>&1 &
pids+=($!)
"$py" -m fleet.shipping.simulator --port "$courier_port" > "$here/courier.log" 2>&1 &
pids+=($!)
service serve > "$here/serve.log" 2>&1 &
pids+=($!)

# the CS desk's terminal: config/pos.toml with its own data, the fleet and online orders on
desk=$here/T21
mkdir -p "$desk"
"$py" - "$desk" "$broker_port" <<'PY'
import re, sys
from pathlib import Path
desk, broker_port = Path(sys.argv[1]), sys.argv[2]
text = Path("config/pos.toml").read_text()
def put(section: str, key: str, value: str) -> None:
    """``key``'s value in ``[section]`` (the first ``key =`` after its header)."""
    global text
    start = text.index(f"\n[{section}]\n")
    found = re.compile(rf"(?m)^{key} = \S+").search(text, start)
    assert found, (section, key)
    text = text[: found.start()] + f"{key} = {value}" + text[found.end() :]
put("terminal", "id", '"T21"')
put("terminal", "data_dir", f'"{desk / "data"}"')
put("fleet", "enabled", "true")
put("fleet", "host", '"127.0.0.1"')
put("fleet", "port", broker_port)
put("fleet", "ca_file", f'"{desk / "tls" / "ca.crt"}"')
put("fleet", "cert_file", f'"{desk / "tls" / "client.crt"}"')
put("fleet", "key_file", f'"{desk / "tls" / "client.key"}"')
put("online_orders", "enabled", "true")
put("ui", "fullscreen", "false")
(desk / "pos.toml").write_text(text)
PY
config=$desk/pos.toml
if [ ! -f "$desk/tls/client.crt" ]; then
  echo "Registering the CS desk's terminal T21 with the fleet."
  "$py" -m terminal --config "$config" journal export "$desk/export" >/dev/null || true
  test -f "$desk/export/journal-public-key.pem"
  fleet terminal add T21 --store "$store" --group online --timezone Asia/Jakarta \
    --journal-key "$desk/export/journal-public-key.pem" --out "$desk/tls"
fi
if [ ! -f "$here/seeded" ]; then
  fleet orders seed --desk "$store"
  touch "$here/seeded"
fi
if ! fleet account list | grep -q '^.* admin '; then
  echo "Console accounts admin, gudang (warehouse) and keuangan (finance), one password"
  echo "for the three (12 characters or more; a demo on this machine only):"
  read -r -s -p "password: " password
  echo
  for who in admin:admin gudang:warehouse keuangan:finance; do
    printf '%s\n' "$password" | fleet account add "${who%%:*}" --role "${who##*:}" --language id --stdin
  done
  unset password
fi
service console > "$here/console.log" 2>&1 &
pids+=($!)
"$py" -m terminal --config "$config" agent > "$desk/agent.log" 2>&1 &
pids+=($!)
echo
echo "The online shop runs (logs in $here):"
echo "  console   http://127.0.0.1:$console_port   gudang: Warehouse   keuangan: Payments   admin: all"
echo "  terminal  T21, cashier 1 (PIN 1357): F4 for online orders"
echo "  the bank  $py -m fleet.cli orders statement --config $fleet_toml --out $here/statement.csv"
echo "            (a BCA-style statement paying every open booking: upload it on Payments)"
"$root/scripts/run-simulator.sh" "$py" "$config" "$@"
