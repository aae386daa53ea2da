# The two commands of the quick start: `make run` and `make test`.
# Everything else here is what they need.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
CONFIG ?= config/pos.toml
# Debian packages the test suite needs: a virtual X server, Mesa software GL, xauth for
# xvfb-run, libmtdev (Kivy loads it for touch screens and complains without it), and
# xdotool, which types real X key events into the running app in the end-to-end test.
# `make run` with no display runs the app under Xvfb: the same packages but xdotool.
RUN_DEBS  := xvfb xauth libgl1-mesa-dri libmtdev1
TEST_DEBS := $(RUN_DEBS) xdotool

.PHONY: run test lint i18n bench clean debs

$(VENV)/.installed: pyproject.toml
	@scripts/ensure-venv.sh $(PYTHON) $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

## Start the terminal in simulator mode (simulated hardware, local database, no broker).
run: $(VENV)/.installed
	@scripts/run-simulator.sh $(PY) $(CONFIG) $(RUN_DEBS)

## Install what the tests need and run the whole suite.
test: debs $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

debs:
	@scripts/ensure-debs.sh $(TEST_DEBS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Recompile the gettext catalogues after editing a .po file.
i18n: $(VENV)/.installed
	$(PY) scripts/i18n.py

bench: $(VENV)/.installed
	$(PY) bench/sale_commit.py
	$(PY) bench/startup.py
	$(PY) bench/secure_store.py
	$(PY) bench/zvt_roundtrip.py
	$(PY) bench/receipt_render.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
