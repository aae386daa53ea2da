#!/usr/bin/env bash
# `make console-demo`: the fleet console on this machine with a week of sales from six
# simulated terminals in three stores (var/fleet/demo.db, made once), an admin account
# (asked for the first time), served on http://127.0.0.1:8080 over plain HTTP: a demo
# only (secure_cookies = false). Production: TLS, see fleet/README.md.
set -euo pipefail
py=${1:-.venv/bin/python}
mkdir -p var/fleet
config=var/fleet/demo.toml
cat > "$config" <<'TOML'
[database]
url = "sqlite:///var/fleet/demo.db"

[console]
secure_cookies = false    # plain HTTP on this machine only: a demo, never production
TOML
if [ ! -e var/fleet/demo.db ]; then
  "$py" -m fleet.cli demo --config "$config"
fi
if ! "$py" -m fleet.cli account list --config "$config" | grep -q '^.* admin '; then
  echo "An account for you (role admin): choose a password of 12 characters or more."
  "$py" -m fleet.cli account add admin --role admin --config "$config"
fi
echo "Open http://127.0.0.1:8080 and sign in as admin (Ctrl-C stops it)."
exec "$py" -m fleet.cli console --config "$config"
