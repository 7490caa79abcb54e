# Two commands do all the setup on a fresh machine: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
QA     := $(VENV)/bin/qa
# A CPU wheel of exactly this torch lies on disk; any other spec downloads a CUDA build.
TORCH  := torch==2.13.0

.PHONY: install dev browser ocr run ingest serve mcp test lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PIP) install -q $(TORCH) -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

# Debian's Chromium for the browser tests; browser downloads do not work here.
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's Tesseract, to OCR PDF pages without a text layer (scanned pages).
ocr:
	@command -v tesseract >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null; }

ingest: install
	$(QA) ingest

run: ingest
	$(QA) chat

serve: ingest
	$(QA) serve

mcp: ingest
	@$(QA) mcp

test: dev browser ocr
	$(PY) -m pytest -q

lint: dev
	$(VENV)/bin/ruff check src tests benchmarks training
	$(VENV)/bin/ruff format --check src tests benchmarks training
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: dev
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) index/*/ index/manifest.json
