# The two commands (README): `make report` builds the rendered report, `make test` runs every check.
# Both create .venv and install the pinned dependencies themselves on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SCALE ?= quick
# Runs at once in `make report`, one CPU thread each: on 2 cores two single-threaded CQL runs do about 1.3x the
# updates of one run on two threads. An interrupted report resumes either way.
JOBS ?= 2
STAMP := $(VENV)/.installed

.PHONY: report test venv sync bench bench-offline bench-scores freeze clean browser docs

report: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(VENV)/bin/spanrl report --scale $(SCALE) --out report --jobs $(JOBS)

test: $(STAMP) browser
	$(VENV)/bin/nbdev_test --path nbs --n_workers 2
	$(PY) -m pytest tests -q -ra

venv: $(STAMP)

# A real browser for the report-rendering test: Debian's chromium (apt; sudo where not root).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# Torch first and alone: pinned to the CPU wheel where one is on disk (a bare `torch` pulls a multi-GB CUDA build).
$(STAMP): settings.ini setup.py constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	$(PY) -m pip install -q --no-deps kan-gpt==1.2.0  # efficient-KAN reference layer, for tests and bench only
	touch $@

# After editing notebooks: export the package, strip notebook noise, regenerate README.md from nbs/index.ipynb.
sync: $(STAMP)
	$(VENV)/bin/nbdev_export
	$(VENV)/bin/nbdev_clean
	$(VENV)/bin/nbdev_clean --fname reproductions
	$(VENV)/bin/spanrl readme

bench: $(STAMP)
	$(PY) bench/layers.py --out bench/results/layers-cpu

# The peer library lives in bench/.peers (pip --target): d3rlpy pins gymnasium 1.0, so it is not installed into .venv.
bench/.peers:
	$(PY) -m pip install -q --target bench/.peers --no-deps d3rlpy==2.8.1 gym==0.26.2 gym-notices \
	  structlog colorama dataclasses-json marshmallow typing-inspect mypy-extensions scikit-learn threadpoolctl joblib narwhals

bench-offline: $(STAMP) bench/.peers
	$(PY) bench/offline_throughput.py | tee bench/results/offline-throughput-cpu.md

# Scores against d3rlpy on the same forged dataset (IQL by default; add `ARGS='--algos iql cql'`): minutes per algorithm
bench-scores: $(STAMP) bench/.peers
	$(PY) bench/offline_scores.py $(ARGS) | tee bench/results/offline-scores-cpu.md

freeze: $(STAMP)
	( echo '# Exact versions that `make` installs (pip install -c constraints.txt). Regenerate with `make freeze`.'; \
	  $(VENV)/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu/torch==\1/' ) > constraints.txt

clean:
	rm -rf report runs

# The documentation site: every notebook executed and rendered, API pages, _docs/index.html (nbs/93_docs).
docs: $(STAMP)
	$(VENV)/bin/spanrl docs --out _docs
