# The test environment's external parts (included by the top-level Makefile).
#
#   make kube-assets                      # build kube-apiserver + etcd for hack/kube-versions (once per version)
#   make kube-assets KUBE_VERSIONS=v1.36.3
#   export KUBEBUILDER_ASSETS=$(make -s kube-assets)   # only the folder is printed on stdout
#   make aws-emulator                     # install moto[server] unless moto_server is on PATH

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
