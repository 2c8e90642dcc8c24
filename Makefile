# Settlement volume tracker. `make run` and `make test` do all of their own set-up.
SHELL := /bin/bash
STACK := deploy/local/stack.sh
VENV := .venv
ENV_RUN = set -a && . $${STACK_DIR:-.stack}/stack.env && set +a &&

.PHONY: help install infra init run stop status test test-unit lint format typecheck check lint-deploy bench soak dashboards run-cluster test-cluster nemesis client-contract

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## apt packages, uv, virtualenv and Kafka jars (idempotent)
	@deploy/local/install.sh

infra: install ## start Kafka, Redis, PostgreSQL, Prometheus and initialise them
	@$(STACK) start infra
	@$(ENV_RUN) $(VENV)/bin/settlementctl init

init: ## migrate, create topics, load FX seeds (stack must be up)
	@$(ENV_RUN) $(VENV)/bin/settlementctl init

run: infra ## start everything with the demo feed and print the URLs
	@$(STACK) start services feed
	@echo
	@$(ENV_RUN) echo "Open this:  http://127.0.0.1:$$API_PORT/  (status page: the 2020 story replays in about a minute)"; \
	 echo "Operator:   http://127.0.0.1:$$API_PORT/operator  (key: \"operator:demo-operator\" in $${STACK_DIR:-.stack}/demo-keys.json)"; \
	 echo "API docs:   http://127.0.0.1:$$API_PORT/docs"; \
	 echo "Progress:   http://127.0.0.1:$$API_PORT/v1/progress"; \
	 echo "Ingest:     http://127.0.0.1:$$INGEST_PORT/docs"; \
	 echo "Prometheus: http://127.0.0.1:$$PROM_PORT"; \
	 echo "Stop with:  make stop"

stop: ## stop everything this project started
	@$(STACK) stop

status: ## show what is running
	@$(STACK) status

test-unit: ## pure unit tests only (no servers)
	@$(VENV)/bin/pytest -m "not integration" -q

test: infra ## the whole suite against the real stack; stops the stack afterwards
	@# When the suite fails: which process died (status) and the end of each service's log.
	@# Schemathesis sends thousands of keyed reads: lift the API's rate limits for this stack.
	@RATE_PER_KEY=100000 BURST_PER_KEY=100000 RATE_PER_ADDRESS=100000 BURST_PER_ADDRESS=100000 \
	 $(STACK) start services && FEED_ARGS="--limit 3000 --rate 600 --seed 7" $(STACK) start feed; \
	 $(VENV)/bin/pytest; rc=$$?; \
	 if [ $$rc -ne 0 ]; then $(STACK) status; $(STACK) logs services feed; fi; \
	 if [ "$${KEEP_STACK:-0}" != 1 ]; then $(STACK) stop; fi; exit $$rc

CLUSTER_ENV = set -a && . $${STACK_DIR:-.stack-cluster}/stack.env && set +a &&

run-cluster: install ## the same services on 3 Kafka brokers, a Redis Cluster and a PG standby
	@$(STACK) --cluster start
	@$(CLUSTER_ENV) $(VENV)/bin/settlementctl init
	@$(STACK) --cluster start services
	@$(CLUSTER_ENV) echo "API: http://127.0.0.1:$$API_PORT/docs  Ingest: http://127.0.0.1:$$INGEST_PORT/docs"; \
	 echo "Stop with:  deploy/local/stack.sh --cluster stop"

# NEMESIS_PROXY=1: PostgreSQL and Redis behind toxiproxy, for the nemesis's network faults
# (tests/cluster/test_cluster_3_nemesis.py: the 3-minute campaign with the fixed seed
# 20261207 and the minimal schedules of its findings run here; docs/operations.md, "Nemesis").
test-cluster: install ## fault tests on a fresh cluster stack of their own (started and stopped here)
	@export STACK_DIR=$${CLUSTER_STACK_DIR:-$(CURDIR)/.stack-cluster-test} NEMESIS_PROXY=1; \
	 $(STACK) --cluster stop && $(STACK) --cluster wipe && \
	 trap '$(STACK) --cluster stop' EXIT && \
	 $(STACK) --cluster start && $(CLUSTER_ENV) $(VENV)/bin/settlementctl init && \
	 { $(VENV)/bin/pytest -m cluster tests/cluster $(CLUSTER_TEST_ARGS) || \
	   { rc=$$?; $(STACK) --cluster status; $(STACK) --cluster logs services; exit $$rc; }; }

# The long campaign (issue 26, docs/operations.md "Nemesis"): MINUTES of seeded faults on a
# fresh proxied cluster stack, the PostgreSQL promotion included; SEED replays a schedule
# (random when not given, printed first). Results in nemesis-results/seed-<SEED>/:
# history.jsonl, summary.md, timeline.png, plan.json.
MINUTES ?= 30
nemesis: install ## seeded fault campaign (MINUTES=30 SEED=<random>) with an independent checker
	@seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; echo "nemesis: SEED=$$seed MINUTES=$(MINUTES)"; \
	 export STACK_DIR=$${NEMESIS_STACK_DIR:-$(CURDIR)/.stack-cluster-nemesis} NEMESIS_PROXY=1; \
	 $(STACK) --cluster stop && $(STACK) --cluster wipe && \
	 trap '$(STACK) --cluster stop' EXIT && \
	 $(STACK) --cluster start && $(CLUSTER_ENV) $(VENV)/bin/settlementctl init && \
	 NEMESIS_SEED=$$seed NEMESIS_MINUTES=$(MINUTES) NEMESIS_PROMOTE=1 \
	 NEMESIS_RESULTS=$(CURDIR)/nemesis-results/seed-$$seed \
	 $(VENV)/bin/pytest -m cluster -s -p no:cacheprovider -k campaign tests/cluster/test_cluster_3_nemesis.py; \
	 rc=$$?; echo "nemesis: SEED=$$seed, results in nemesis-results/seed-$$seed/"; exit $$rc

lint: ## ruff check and ruff format --check
	@$(VENV)/bin/ruff check services tests bench deploy
	@$(VENV)/bin/ruff format --check services tests bench deploy

format: ## apply ruff format and the safe ruff fixes
	@$(VENV)/bin/ruff format services tests bench deploy
	@$(VENV)/bin/ruff check --fix services tests bench deploy

typecheck: ## mypy --strict over services/, tests/ and bench/ (packages in pyproject.toml)
	@$(VENV)/bin/mypy

check: install lint typecheck ## lint, format check and mypy --strict

lint-deploy: install ## Helm chart (helm lint/template, Kubernetes schemas) and docker-compose.yml, offline
	@$(VENV)/bin/python -m deploy.lint

bench: infra ## benchmarks (not part of make test); writes bench/results/
	@$(ENV_RUN) $(VENV)/bin/python -m bench.run $(BENCH_ARGS)

soak: infra ## 1,000 ev/s end to end for SOAK_MINUTES (default 30) min; writes bench/results/soak-*
	@$(ENV_RUN) SOAK_MINUTES=$${SOAK_MINUTES:-30} $(VENV)/bin/python -m bench.soak $(SOAK_ARGS)

dashboards: ## regenerate the Grafana dashboards from code
	@$(VENV)/bin/python deploy/grafana/generate.py

client-contract: ## regenerate the event rules the client ships (services/client/.../contract.json)
	@$(VENV)/bin/python -m tests.client.contract_source
