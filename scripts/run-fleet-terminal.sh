#!/usr/bin/env bash
# `make run-fleet`: a terminal that sells and sends to the fleet on this machine (the
# third of the README's three fleet commands, after `make fleet-broker` and
# `make fleet-serve`). Its files live under var/fleet/T01/:
#   pos.toml   config/pos.toml with its own data directory and [fleet] turned on
#   data/      its database and key store (made at the first start)
#   tls/       its client certificate from the fleet CA (pos-fleet terminal add)
# The agent runs in the background while the app runs (with no display: the scripted
# cash sale under Xvfb, as `make run`), and stops with it.
set -euo pipefail
py=$1
shift
here=var/fleet/T01
mkdir -p "$here"
config=$here/pos.toml
"$py" - "$config" "$here" <<'PY'
import re, sys
from pathlib import Path
config, here = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
text = Path("config/pos.toml").read_text()
values = {
    "data_dir": f'"{here / "data"}"', "enabled": "true", "host": '"127.0.0.1"',
    "ca_file": f'"{here / "tls" / "ca.crt"}"', "cert_file": f'"{here / "tls" / "client.crt"}"',
    "key_file": f'"{here / "tls" / "client.key"}"', "fullscreen": "false",
}
for key, value in values.items():
    text, n = re.subn(rf"(?m)^{key} = \S+", f"{key} = {value}", text, count=1)
    assert n == 1, key
config.write_text(text)
PY
if [ ! -f "$here/tls/client.crt" ]; then
  echo "Registering terminal T01 with the fleet (its journal key, a client certificate)."
  # (a new terminal's journal is empty: the export says so and exits 1; its key is written)
  "$py" -m terminal --config "$config" journal export "$here/export" >/dev/null || true
  test -f "$here/export/journal-public-key.pem"
  "$py" -m fleet.cli terminal add T01 --store "Toko Demo Sejahtera" --group demo \
    --timezone Asia/Jakarta --journal-key "$here/export/journal-public-key.pem" --out "$here/tls"
fi
"$py" -m terminal --config "$config" agent &
agent=$!
trap 'kill -TERM $agent 2>/dev/null; wait $agent 2>/dev/null || true' EXIT
echo "The fleet agent runs (log: $here/data/logs/agent.log)."
"$(dirname "$0")/run-simulator.sh" "$py" "$config" "$@"
echo "Sent to the fleet: .venv/bin/pos-fleet terminals; .venv/bin/pos-fleet sales"
