# The two commands of the quick start: `make run` and `make test`.
# Everything else here is what they need.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
CONFIG ?= config/pos.toml
# A demo store over CONFIG (README "Demo stores"): STORE=mn (Mongolia) or STORE=cn (China)
# runs with config/stores/$(STORE).toml; none: the Indonesian minimarket of CONFIG;
# STORE=online: the online shop of seed 001 (make run-online).
STORE ?=
STORE_ARGS := $(if $(STORE),--store config/stores/$(STORE).toml)
# Debian packages the test suite needs: a virtual X server, Mesa software GL, xauth for
# xvfb-run, libmtdev (Kivy loads it for touch screens and complains without it), and
# xdotool, which types real X key events into the running app in the end-to-end test;
# Mosquitto, the fleet's broker, which the fleet tests run for real; Chromium and its driver,
# which the console's browser tests drive headless; shellcheck, which checks every script.
# `make run` with no display runs the app under Xvfb: the same packages but xdotool.
# Building the locked packages needs the TPM 2.0 headers (tpm2-pytss) and pkg-config;
# the tests run a software TPM (swtpm).
BUILD_DEBS := libtss2-dev pkg-config
RUN_DEBS  := xvfb xauth libgl1-mesa-dri libmtdev1
TEST_DEBS := $(RUN_DEBS) xdotool swtpm mosquitto postgresql chromium chromium-driver shellcheck
# Every package, direct and transitive, pinned with its hashes (see `make lock`).
LOCKS := requirements/build.lock requirements/dev.lock

.PHONY: run test lint i18n bench clean debs lock screenshots fleet-broker fleet-serve run-fleet \
        run-online online-screenshots \
        fleet-console console-demo console-screenshots image-test provision-demo

$(VENV)/.installed: pyproject.toml $(LOCKS)
	@scripts/ensure-debs.sh $(BUILD_DEBS)
	@scripts/ensure-venv.sh $(PYTHON) $(VENV)
	@scripts/install-locked.sh $(PY) $(LOCKS)
	@touch $@

## Start the terminal in simulator mode (simulated hardware, local database, no broker);
## STORE=mn or STORE=cn: the Mongolian or the Chinese demo store; STORE=online: the
## online shop (README "Online orders"), as make run-online.
ifeq ($(STORE),online)
run: run-online
else
run: $(VENV)/.installed
	@scripts/run-simulator.sh $(PY) $(CONFIG) $(STORE_ARGS) $(RUN_DEBS)
endif

## The fleet on one machine, in three terminal windows (README "The fleet"): the fleet CA
## and Mosquitto with mutual TLS; the ingest into var/fleet/fleet.db; a terminal T01
## registered with the fleet, selling and sending.
fleet-broker: $(VENV)/.installed
	@scripts/ensure-debs.sh mosquitto
	$(PY) -m fleet.cli ca init
	$(PY) -m fleet.cli broker

fleet-serve: $(VENV)/.installed
	$(PY) -m fleet.cli serve

run-fleet: $(VENV)/.installed
	@scripts/run-fleet-terminal.sh $(PY) $(RUN_DEBS)

## Seed 001's online shop on this machine (README "Online orders"): broker, fleet with
## online orders, the courier's simulator, the console on :8090, and a CS desk's terminal.
run-online: $(VENV)/.installed
	@scripts/ensure-debs.sh mosquitto
	@scripts/run-online-shop.sh $(PY) $(RUN_DEBS)

## The README's pictures of a CS desk's online-orders mode (docs/screenshots/online/).
online-screenshots: $(VENV)/.installed
	@scripts/ensure-debs.sh $(RUN_DEBS)
	ONLINE_SCREENSHOTS=1 $(PY) -m pytest -q tests/ui/test_online_orders_ui.py

## A terminal set up as a technician does (README "Setting up a terminal"), after
## fleet-broker and fleet-serve: the demo shop pushed, a card for T09, its first boot, the app.
provision-demo: $(VENV)/.installed
	@scripts/provision-demo.sh $(PY) $(RUN_DEBS)

## The fleet console (the back office in the browser) on the fleet database of config/fleet.toml.
fleet-console: $(VENV)/.installed
	$(PY) -m fleet.cli console

## The console with a week of demo sales from six simulated terminals (var/fleet/demo.db).
console-demo: $(VENV)/.installed
	@scripts/console-demo.sh $(PY)

## The README's console screenshots (docs/screenshots/console/), by the browser tests.
console-screenshots: debs $(VENV)/.installed
	CONSOLE_SCREENSHOTS=1 $(PY) -m pytest -q tests/fleet/test_console_browser.py

## Install what the tests need and run the whole suite.
test: debs $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

debs:
	@scripts/ensure-debs.sh $(TEST_DEBS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## The README's screenshots at 800x480, 1024x600 and 1280x720 (docs/screenshots/<size>/).
screenshots: $(VENV)/.installed
	@scripts/ensure-debs.sh $(RUN_DEBS)
	@scripts/screenshots.sh $(PY) $(CONFIG) $(if $(STORE),config/stores/$(STORE).toml)

## Recompile the gettext catalogues after editing a .po file.
i18n: $(VENV)/.installed
	$(PY) scripts/i18n.py

bench: $(VENV)/.installed
	$(PY) bench/sale_commit.py
	$(PY) bench/startup.py
	$(PY) bench/secure_store.py
	$(PY) bench/zvt_roundtrip.py
	$(PY) bench/receipt_render.py
	$(PY) bench/ui_latency.py
	$(PY) bench/fleet_ingest.py
	$(PY) bench/fleet_drain.py
	$(PY) bench/fleet_presence.py
	$(PY) bench/fleet_rollout.py
	$(PY) bench/console_reports.py

## Resolve the dependencies anew into requirements/*.lock (on purpose; UPGRADE=1 moves
## every package to its newest allowed release). Commit the lock files with the change.
lock: $(VENV)/.installed
	UV=$(VENV)/bin/uv scripts/lock.sh

## The image's install steps on this machine (image-build/README.md): shellcheck on every
## script, an amd64 bookworm root made by mmdebstrap, image-build/install-into-root.sh into
## it, then `pos-terminal selfcheck` and `systemd-analyze verify` inside. As root; minutes.
IMAGE_TEST_DEBS := mmdebstrap shellcheck
image-test: $(VENV)/.installed
	@scripts/ensure-debs.sh $(IMAGE_TEST_DEBS)
	image-build/test-root.sh $(PY)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
