# The two commands of the README: `make serve` and `make test`.
# Each creates .venv if missing, installs torch==2.13.0 first (the CPU build; an unpinned
# torch would pull a multi-GB CUDA build), then the project with its test and OCR extras.
# Debian package: fonts-wqy-microhei (the scanned pages tests/test_ocr.py draws; .ci/run installs it).
PY      ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
HOST    ?= 127.0.0.1
PORT    ?= 7860
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export GRADIO_ANALYTICS_ENABLED = False

.PHONY: setup index serve test bench eval clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,ocr]'
	touch $@

setup: $(VENV)/.installed

index: setup
	$(BIN)/bulletin-qa index

serve: index
	$(BIN)/bulletin-qa serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest -q

eval: index
	$(BIN)/bulletin-qa eval ../shared/eval/dev.jsonl

clean:
	rm -rf index
