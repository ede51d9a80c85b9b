# Amazon Vendor Central <-> CGS BlueCherry integration layer.
# `make demo` and `make test` are the two commands that must work on a fresh machine.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv demo test test-fast lint fmt airflow bench-edi bench-orders bench-820 bench-846 bench-remit-month campaign-crash campaign-faults campaign-fuzz lock db-upgrade clean

help:
	@echo "make demo        end-to-end demo on SQLite with in-process servers (no Docker)"
	@echo "make test        the whole test suite"
	@echo "make airflow     airflow standalone with our DAGs (UI address and login printed)"
	@echo "make lint        ruff"
	@echo "make bench-edi   X12 validator benchmark (SEGMENTS=N to size it)"
	@echo "make bench-orders  POs x 50 lines through po_to_so and so_to_poa (POS=10000, PROFILE=dir)"
	@echo "make campaign-crash / campaign-faults / campaign-fuzz   the re-runnable campaigns (README)"
	@echo "make bench-820   one 820 of 50,000 remittance lines classified, gated and posted (LINES=N to size it)"
	@echo "make bench-846   one full 846 feed of 100,000 SKUs x 3 warehouses from an ATS export (SKUS=N to size it)"
	@echo "make bench-remit-month  a simulated month, every DAG: share of remittance dollars posted automatically (WEEKS=N)"
	@echo "make lock        re-resolve requirements.lock from pyproject.toml"

# The venv is rebuilt when the lock file changes; uv installs the exact locked versions.
$(STAMP): requirements.lock pyproject.toml sandbox/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	@# The product, and the sandbox parties (a distribution of their own: sandbox/pyproject.toml).
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e . -e ./sandbox
	@# The build's egg-info in the checkout would be a second copy of the package's metadata
	@# whenever the checkout is on sys.path (python -m ...): Airflow would load our plugin twice.
	rm -rf amazon_bluecherry.egg-info sandbox/amazon_bluecherry_sandbox.egg-info
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m sandbox.demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check dags plugins sandbox tests bench

fmt: $(STAMP)
	$(BIN)/ruff check --fix dags plugins sandbox tests bench

airflow: $(STAMP)
	$(BIN)/python -m sandbox.standalone

bench-edi: $(STAMP)
	$(BIN)/python bench/bench_edi.py $(if $(SEGMENTS),--segments $(SEGMENTS),)

bench-orders: $(STAMP)
	$(BIN)/python bench/bench_orders.py $(if $(POS),--pos $(POS),) $(if $(PROFILE),--profile $(PROFILE),)

# --- peak day, outages, crash/fault/fuzz campaigns (issue 13) ----------------------------
campaign-crash: $(STAMP)
	$(BIN)/python bench/campaign_crash.py $(if $(RUNS),--runs $(RUNS),)

campaign-faults: $(STAMP)
	$(BIN)/python bench/campaign_faults.py $(if $(RUNS),--runs $(RUNS),)

campaign-fuzz: $(STAMP)
	$(BIN)/python bench/campaign_fuzz.py $(if $(FILES),--files $(FILES),)

bench-820: $(STAMP)
	$(BIN)/python bench/bench_820.py $(if $(LINES),--lines $(LINES),)

bench-846: $(STAMP)
	$(BIN)/python bench/bench_846.py $(if $(SKUS),--skus $(SKUS),)

bench-remit-month: $(STAMP)
	$(BIN)/python bench/bench_remit_month.py $(if $(WEEKS),--weeks $(WEEKS),)

db-upgrade: $(STAMP)
	$(BIN)/amazon-bluecherry db upgrade

# requirements.txt names the product (with its extras) and the sandbox; the lock pins what
# they need, not the two local packages themselves (installed from the checkout).
lock:
	$(BIN)/uv pip compile requirements.txt --python-version 3.11 --quiet \
		--no-emit-package amazon-bluecherry --no-emit-package amazon-bluecherry-sandbox \
		--output-file requirements.lock --no-header --annotation-style line
	@sed -i '1i # Exact versions of everything the product, sandbox and tests install. make lock re-resolves it.' requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
