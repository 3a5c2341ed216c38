# dbt Workbench — every target does its own setup; `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= uv
RUN := $(UV) run --frozen
# `uv run` without a sync: for targets whose environment is `make runtime`'s, not the dev one.
RUN_NO_SYNC := $(UV) run --frozen --no-sync
UV_QUIET := $(if $(VERBOSE),,--quiet)
PORT ?= 8080
TOOLS_DIR := $(CURDIR)/.tools
export PATH := $(TOOLS_DIR)/bin:$(HOME)/.local/bin:$(PATH)
IMAGE ?= dbt-workbench/dbt-runtime
TAG ?= dev
# pytest-xdist workers for `make test` (one per CPU by default); each starts its own PostgreSQL,
# and a test file's tests stay on one worker, so module fixtures are built once.
TEST_WORKERS ?= auto

.PHONY: help setup runtime tools prereqs demo docs test test-fast lint manifests chart image image-base image-test bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## create .venv from uv.lock with every extra and the dev tools, bytecode compiled as in the image
	@bash scripts/ensure-uv.sh
	$(UV) sync --frozen --all-extras --compile-bytecode $(UV_QUIET)

# What `make demo` and `make docs` need: the runtime and the demo + embed extras, no dev tool.
# --inexact never uninstalls what `make setup` added; uv lists packages only with VERBOSE=1.
runtime: ## create .venv with the runtime and the demo + embed extras only (what make demo needs)
	@bash scripts/ensure-uv.sh
	$(UV) sync --frozen --extra demo --extra embed --no-dev --inexact --compile-bytecode $(UV_QUIET)

tools: ## install helm v4 + kubectl into .tools/bin, the Argo CD schema into .tools/schemas, autocannon into bench/load (npm)
	@bash scripts/install-tools.sh $(TOOLS_DIR)

demo: runtime ## the whole pipeline on an embedded PostgreSQL (or POSTGRES_* if set)
	$(RUN_NO_SYNC) workbench demo

docs: runtime ## serve the docs the demo generated on http://127.0.0.1:$(PORT) (make docs PORT=9000; Ctrl-C stops)
	$(RUN_NO_SYNC) workbench docs --serve --port $(PORT)

prereqs: ## check the system packages `make test` needs (names the apt-get line for what is missing)
	@bash scripts/check-prereqs

test: setup prereqs tools lint ## prerequisites, lint, then unit + integration tests (throwaway PostgreSQL, real Helm/Prometheus)
	$(RUN) pytest -q -p no:cacheprovider --ignore=tests/image -n $(TEST_WORKERS) --dist loadfile --durations=20 -rfE

test-fast: setup tools ## the tests that start no server (no PostgreSQL, S3, Pushgateway): about 80 s on 2 cores
	$(RUN) pytest -q -p no:cacheprovider --ignore=tests/image -m "not integration" -n $(TEST_WORKERS) --dist loadfile

lint: setup ## ruff + mypy strict + sqlfluff (dbt models and tests, jinja templater: .sqlfluff)
	$(RUN) ruff check workbench workflows tests bench
	$(RUN) ruff format --check workbench workflows tests bench
	$(RUN) mypy
	$(RUN) sqlfluff lint dbt/models dbt/tests --disable-progress-bar --processes 2

manifests: setup ## render the chart's workflow templates from the Hera code in workflows/
	$(RUN) python -m workflows.render charts/dbt-workbench/templates

chart: setup tools ## helm lint --strict + template every ci/*-values.yaml
	helm lint --strict charts/dbt-workbench
	@for f in charts/dbt-workbench/ci/*-values.yaml; do \
	  echo "== $$f"; helm template wb charts/dbt-workbench -f $$f --api-versions monitoring.coreos.com/v1 --api-versions argoproj.io/v1alpha1/EventSource --api-versions argoproj.io/v1alpha1/Sensor >/dev/null || exit 1; done

image: ## build the runtime image with docker or podman (behind a TLS proxy: CA_BUNDLE=/path/ca.pem)
	bash scripts/image-build.sh $(IMAGE):$(TAG)

BASE_IMAGE = $(shell sed -n 's/^FROM \([^ ]*\) AS build$$/\1/p' images/dbt-runtime/Dockerfile)

image-base: ## ONLY without registry access: a stand-in for the Dockerfile's base, from Debian packages
	bash scripts/image-base.sh "$$(bash scripts/container-engine.sh | head -n1)" $(BASE_IMAGE)

image-test: setup tools ## build the image, then run it as the rendered WorkflowTemplate's pod does
	@bash scripts/check-prereqs --for image-test
	bash scripts/image-base.sh --if-unpullable "$$(bash scripts/container-engine.sh | head -n1)" $(BASE_IMAGE)
	$(RUN) pytest -q -p no:cacheprovider tests/image

bench: setup ## benchmarks (autocannon installed first: npm ci in bench/load); numbers go to bench/results/*.json
	@bash scripts/install-bench-load.sh
	$(RUN) python -m bench

clean: ## remove generated data and dbt target
	rm -rf dbt/target dbt/logs .demo
