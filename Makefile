# Two commands do all set-up on a fresh machine with Python 3.10+:
#   make sweep   tune chunking on the bundled corpus (writes out/tuned.json, out/report.html)
#   make test    run the test suite
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Extras installed with the package; CI adds the optional ones (see .ci/run).
EXTRAS ?= test
comma  := ,
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: install sweep test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

sweep: $(STAMP)
	$(BIN)/chunkopt sweep corpora/docs --queries corpora/queries.jsonl --out out/tuned.json --report out/report.html --results out/results.jsonl

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark in turn (several minutes on 2 cores; sweep_cost.py alone took about 4); the Chroma
# figures need ../shared/benchmarks (see bench/README.md).
bench:
	$(MAKE) install EXTRAS=test,bench
	$(BIN)/python bench/chunking_speed.py
	$(BIN)/python bench/sweep_cost.py
	$(BIN)/python bench/retrieval_quality.py
	$(BIN)/python bench/query_generation.py --seeds 0 1 2

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
