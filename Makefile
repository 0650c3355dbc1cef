# Each target sets itself up: a virtual environment in .venv with Loyalist installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: tui demo test bench clean

tui demo: $(STAMP)  ## open the app on the bundled sample workspace
	$(BIN)/loyalist tui

test: $(STAMP)  ## run the whole test suite
	$(BIN)/python -m pytest

bench: $(STAMP)  ## benchmarks (not part of the tests); side by side with peers, then the published figures
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench
	# the model stages at one million customers, added to the run above (bench/results/latest.json)
	$(BIN)/python -m bench --sizes 1mc --stages clustering,scale,clv,churn --update bench/results/latest.json
	# larger than memory: three times the 10m history under a 2 GB limit, added to the same run
	$(BIN)/python -m bench --sizes 10m --stages none --memory-limit 2g --history 3 --update bench/results/latest.json
	$(BIN)/python -m bench.sidebyside
	# the newer paths, each beside its own peer (bench/results/<name>.json)
	$(BIN)/python -m bench.engines --sizes 10m,100m
	$(BIN)/python -m bench.products
	$(BIN)/python -m bench.pricing
	$(BIN)/python -m bench.promo
	$(BIN)/python -m bench.text --size 10000
	$(BIN)/python -m bench.text --size 100000 --no-peer
	$(BIN)/python -m bench.points
	$(BIN)/python -m bench.demand
	$(BIN)/python -m bench.tui_peer
	$(BIN)/python -m bench.publish  # README and bench/RESULTS.md figures, from every JSON above

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache
