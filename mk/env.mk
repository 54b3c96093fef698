# The test environment's external parts (included by the top-level Makefile).
#
#   make kube-assets                      # build etcd and the kube binaries for hack/kube-versions (once per version)
#   make kube-assets KUBE_VERSIONS=v1.36.3
#   export KUBEBUILDER_ASSETS=$(make -s kube-assets)   # only the folder is printed on stdout
#   make aws-emulator                     # install moto[server] unless moto_server is on PATH
#   make node-packages                    # containerd, runc, CNI plugins for real nodes (apt-get when missing)
#   make node-images                      # build the pause and hello images (hack/node-images.sh, once per content)
#   make promtool                         # build promtool for the alert-rule tests (hack/promtool.sh, once per version)
#   make helm                             # build helm for the chart test (hack/helm.sh, once per version)

KUBE_VERSIONS ?=
PYTHON ?= python3

.PHONY: kube-assets aws-emulator

kube-assets:
	@hack/kube-assets.sh $(KUBE_VERSIONS)

aws-emulator:
	@if command -v moto_server >/dev/null 2>&1; then \
	  echo "moto_server is installed: $$(command -v moto_server)" >&2; \
	else \
	  $(PYTHON) -m pip install 'moto[server]'; \
	fi

# Lua 5.1, for the test of the Argo CD health check in docs/gitops/: Argo CD runs health checks in
# gopher-lua, which implements the Lua 5.1 language, so that is the interpreter the test uses.
# Installed with apt-get (as root, or through sudo) when missing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: lua
lua: ## Install the Lua 5.1 interpreter the health-check test runs (apt-get), unless it is there
	@if command -v lua5.1 >/dev/null 2>&1; then \
	  echo "lua5.1 is installed: $$(command -v lua5.1)" >&2; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  $(SUDO) apt-get install -y -qq lua5.1 >/dev/null || \
	    { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq lua5.1 >/dev/null; }; \
	else \
	  echo "lua5.1 is missing and there is no apt-get here: install Lua 5.1 with your package manager" >&2; exit 1; \
	fi

# kstatus (sigs.k8s.io/cli-utils), the health rules Flux applies, for the tests of what GitOps tools
# read from a Cluster's status: built from test/support/kstatus (go.mod and go.sum pin it) once per
# content into the cache (hack/kstatus.sh); only the binary's path is printed on stdout.
.PHONY: kstatus
kstatus: ## Build the kstatus tool the health tests run (Go, cached by content); prints its path
	@hack/kstatus.sh

# What a real (kubelet) node of the local provider runs on: containerd, runc and the CNI plugins,
# Debian's packages, installed with apt-get when missing. No service is started: the provider runs
# each node's containerd itself, from its own config.
.PHONY: node-packages node-images
node-packages: ## Install containerd, runc and the CNI plugins a real node needs (apt-get), unless they are there
	@if command -v containerd >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && [ -x /usr/lib/cni/bridge ]; then \
	  echo "containerd, runc and the CNI plugins are installed: $$(command -v containerd) $$(command -v runc) /usr/lib/cni/bridge" >&2; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  pkgs='containerd runc containernetworking-plugins'; \
	  $(SUDO) apt-get install -y -qq $$pkgs >/dev/null || \
	    { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$pkgs >/dev/null; }; \
	else \
	  echo "containerd, runc or the CNI plugins (/usr/lib/cni/bridge) are missing and there is no apt-get here: install them with your package manager" >&2; exit 1; \
	fi

# The images a real node runs without a registry; only the folder is printed on stdout, so
# IMAGES=$(make -s node-images) works.
node-images: ## Build the node images (pause, hello) as OCI archives into the cache; prints their folder
	@hack/node-images.sh

# promtool, for the tests of the alert rules in docs/observability/; only its path is printed on stdout.
.PHONY: promtool
promtool: ## Build promtool from the Prometheus Go module into the cache; prints its path
	@hack/promtool.sh

# helm, for the test of charts/clusterforge/ (helm lint, and helm template against init --dry-run);
# only its path is printed on stdout.
.PHONY: helm
helm: ## Build helm from the Helm Go module into the cache; prints its path
	@hack/helm.sh

# The integration tests include those tests (kstatus and Lua for the health checks, promtool for the
# alert rules, helm for the chart's install), and the local provider's tests of real nodes. The unit
# tests render the chart (test/unit/chart/). `make test` builds promtool and helm in the background
# while its tests run (hack/with-background-builds.sh); the tests that need them wait for that build.
test test-integration: lua kstatus node-packages node-images
test-integration: promtool helm
test-unit: helm

# The operator image, built without a daemon or a base-image pull (hack/operator-image.sh; the
# Containerfile says the same for docker/podman users). Only the archive's path is printed on stdout.
#   make image                                   # dist/image/clusterforge-operator.tar (+ .ref)
#   make image-push IMAGE=registry.example/clusterforge:v0.1.0
IMAGE ?=
.PHONY: image image-push
image: dist/image/.dist-built ## Build the operator image as an OCI archive in dist/image/ (no Docker needed; cached by content)
	@hack/operator-image.sh

# dist/ again only when a source changed, so a warm `make image` takes seconds, not a tsc run.
# node_modules is order-only: its presence is enough (a lock newer than it is `make deps`'s concern).
dist/image/.dist-built: package.json tsconfig.json tsconfig.build.json \
  $(shell find src providers -type f -not -name '*.test.ts' 2>/dev/null) | node_modules
	npm run -s build >&2
	@mkdir -p $(@D) && touch $@

node_modules:
	$(MAKE) deps

image-push: image ## Push the operator image with skopeo: make image-push IMAGE=registry/name:tag
	@if [ -z '$(IMAGE)' ]; then echo 'make image-push: set IMAGE=registry/name:tag' >&2; exit 1; fi
	@command -v skopeo >/dev/null 2>&1 || { echo 'skopeo is missing: apt-get install skopeo (or: podman load -i dist/image/clusterforge-operator.tar)' >&2; exit 1; }
	skopeo copy oci-archive:dist/image/clusterforge-operator.tar 'docker://$(IMAGE)'
