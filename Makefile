# Every target installs what it needs, from a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: install dev s3 s3rver browser demo demo-replay demo-s3 test lint typecheck unit bench bench-hostile bench-remote bench-scale docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	touch $@

$(VENV)/.coco-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[coco]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

# The s3 extra and a local S3 API server (moto's server mode) for demo-s3 and bench-remote.
$(VENV)/.s3-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[s3]' 'moto[server]>=5'
	touch $@

s3: $(VENV)/.s3-installed

# s3rver (Node.js, from npm) serves the remote benchmark: moto's server spends more CPU a request than the scan.
S3RVER := $(VENV)/node/node_modules/.bin/s3rver
$(S3RVER): | $(BIN)/python
	@command -v npm >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node s3rver@3.7.1

s3rver: $(S3RVER)

# Headless Chromium drives the HTML report's browser test (Debian packages).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

demo: install $(VENV)/.coco-installed
	@status=0; $(BIN)/maskaudit scan fixtures/demo/train.parquet || status=$$?; \
	echo; echo "Report: fixtures/demo/train.maskaudit/report.html (also report.md, report.json)"; \
	echo "Exit code $$status: the demo dataset holds every defect maskaudit finds, so 1 (findings) is expected."; \
	test $$status -le 1
	@status=0; $(BIN)/maskaudit scan fixtures/demo/coco/instances_train.json fixtures/demo/coco/instances_val.json \
		--root fixtures/demo/coco/images --rasterize || status=$$?; \
	echo; echo "Report: fixtures/demo/coco/instances_train.maskaudit/report.html; filtered COCO files beside it; --rasterize adds the label-map checks"; \
	echo "Exit code $$status: the COCO demo holds every annotation-file defect, so 1 (findings) is expected."; \
	test $$status -le 1

# Starts a local S3 server on loopback, uploads fixtures/demo to s3://demo/, scans it from the bucket with the CLI.
demo-s3: s3
	@status=0; $(BIN)/python -m bench.s3_demo || status=$$?; test $$status -le 1

lint: dev
	$(BIN)/ruff check .

typecheck: dev
	$(BIN)/mypy

unit: dev browser
	$(BIN)/pytest

test: lint typecheck unit

bench: dev s3rver
	$(BIN)/python -m bench.run

# Only the remote scan: 2,000 rows from a local S3 server behind a 30 ms proxy, against the same files on disk.
bench-remote: s3 s3rver
	$(BIN)/python -m bench.remote_bench

# Only the hostile corpus: FIFOs, devices, bombs, a sparse 1 GiB file; PASS under 100 s and 1 GB.
bench-hostile: install
	$(BIN)/python -m bench.hostile

# Tiny and 512x512 files on 1 and 2 worker processes, end-to-end memory at 1M rows, the 10M-row reduce.
bench-scale: install
	$(BIN)/python -m bench.scale_bench --memory-rows 100000,1000000

docs: install
	$(BIN)/maskaudit checks --format md > docs/checks.md

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache bench-data artifacts

demo-replay: install
	@status=0; $(BIN)/maskaudit replay fixtures/demo/train.parquet \
		--pipeline fixtures/pipelines/pipelines.py:clip_then_gamma --preprocess zscore || status=$$?; \
	echo; echo "Replay report: fixtures/demo/train.maskaudit/replay.md (the clip, transform 1, is named as the cause)"; \
	test $$status -le 1
