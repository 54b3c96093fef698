# Clusterforge: the two commands a new user needs are `make demo` and `make test`.
# Each installs what it needs first: npm packages, the Kubernetes binaries, the AWS API emulator.

SHELL := /bin/bash
.DEFAULT_GOAL := help

include mk/env.mk

.PHONY: help deps build generate check-generated lint typecheck test test-unit test-integration test-crash bench bench-scale demo demo-down

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# Install again only when the lock file changed. `npm install` with the checked-in lock installs
# exactly its versions; `npm ci` would be the usual choice, but it refuses a lock that lacks Biome's
# packages for other platforms, and the registry these machines reach does not serve those.
node_modules/.package-lock.json: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json ## Install the npm packages

build: deps ## Compile TypeScript into dist/
	npm run -s build

generate: deps ## Regenerate crds/, the chart's generated files, docs/lifecycle.md and docs/observability/ from the code
	npm run -s gen:crds
	npx tsx src/cli/install/generate-chart.ts
	@if [ -f src/lifecycle/generate-diagram.ts ]; then npx tsx src/lifecycle/generate-diagram.ts; fi
	npx tsx src/operator/observability/generate.ts

check-generated: deps ## Fail when crds/, charts/clusterforge/, docs/lifecycle.md or docs/observability/ is stale (run `make generate`)
	npx tsx src/api/generate-crds.ts --check
	npx tsx src/cli/install/generate-chart.ts --check
	npx tsx src/lifecycle/generate-diagram.ts --check
	npx tsx src/operator/observability/generate.ts --check

lint: deps ## Lint and format check (Biome)
	npx biome check .

typecheck: deps ## Type-check everything, tests included
	npx tsc -p tsconfig.json --noEmit

test-unit: deps ## Unit tests only (no servers)
	npx vitest run --project unit

test-integration: deps kube-assets aws-emulator ## Integration and end-to-end tests (real kube-apiserver, etcd, AWS emulator)
	npx vitest run --project integration

# `make test` walks a subset of the crash points; this walks all of them (docs/crash-safety.md).
test-crash: deps kube-assets aws-emulator ## Kill the operator at every crash point of a local and an aws-ec2 lifecycle (~15 min)
	CLUSTERFORGE_CRASH_WALK=all npx vitest run test/integration/crash/local-crash-walk.test.ts
	CLUSTERFORGE_CRASH_WALK=all npx vitest run test/integration/crash/ec2-crash-walk.test.ts

# Only the default Kubernetes version is built before the tests; helm, promtool and the other versions
# (the upgrade tests' source) build in the background, at a low priority, while the tests run
# (hack/with-background-builds.sh).
test: KUBE_VERSIONS = $(firstword $(shell grep -Ev '^[[:space:]]*(\#|$$)' hack/kube-versions))
test: deps kube-assets aws-emulator lint typecheck check-generated build ## Everything CI runs: lint, type-check, every test
	hack/with-background-builds.sh npx vitest run

bench: deps kube-assets node-packages node-images build ## Benchmarks; they print their figures
	npm run -s bench

# CLUSTERS: sizes to run (default 100,300,1000); IDLE_MINUTES: the idle window (default 10);
# OPERATOR_ARGS: extra `clusterforge operator` flags, e.g. OPERATOR_ARGS='--concurrency=4'.
bench-scale: KUBE_VERSIONS = $(firstword $(shell grep -Ev '^[[:space:]]*(\#|$$)' hack/kube-versions))
bench-scale: deps kube-assets build ## The operator at 100/300/1,000 in-memory clusters, with the floor (CLUSTERS=...)
	CLUSTERS='$(CLUSTERS)' IDLE_MINUTES='$(IDLE_MINUTES)' OPERATOR_ARGS='$(OPERATOR_ARGS)' npm run -s bench -- scale

# The demo needs the binaries of one Kubernetes version only (the first of hack/kube-versions);
# KUBE_VERSIONS=... on the command line still wins. DEV_FLAGS passes flags to `dev up`, e.g.
# make demo DEV_FLAGS='--workers 3'.
DEV_FLAGS ?=
demo: KUBE_VERSIONS = $(firstword $(shell grep -Ev '^[[:space:]]*(\#|$$)' hack/kube-versions))
demo: deps kube-assets node-packages node-images build ## Start a local management plane, the operator and a cluster (1 control plane, 2 kubelet workers) running the Deployment hello; leaves them running
	@node bin/clusterforge.js dev up $(DEV_FLAGS)

demo-down: ## Stop everything `make demo` started and remove .clusterforge/dev (safe when nothing runs)
	@if [ -f dist/src/cli/main.js ]; then node bin/clusterforge.js dev down; \
	else $(MAKE) -s build && node bin/clusterforge.js dev down; fi
