#!/usr/bin/env bash
# Builds Helm from its published Go module into a cache outside the repo, once per version, and prints
# its path on stdout (build logs on stderr). The chart test (test/unit/chart/) runs `helm template` and
# `helm lint` on charts/clusterforge/ with it.
#
#   hack/helm.sh               # HELM_VERSION below
#   HELM=$(hack/helm.sh)
#
# The cache is ${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/tools/helm/<version>/.
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v4.3.2}
out=${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/tools/helm/$HELM_VERSION
major=${HELM_VERSION%%.*}

log() { printf '[helm] %s\n' "$*" >&2; }

# One build at a time: a caller that comes while make test's background build runs waits for it
# (hack/with-background-builds.sh) and then finds the binary, instead of building it a second time.
if [ ! -x "$out/helm" ]; then
  mkdir -p "$out"
  exec 9>"$out/.build.lock"
  flock 9
fi
if [ ! -x "$out/helm" ]; then
  command -v go >/dev/null || { log "go is not installed (Helm is built from helm.sh/helm/$major)"; exit 1; }
  log "building helm $HELM_VERSION (first time only; a few minutes)"
  started=$SECONDS
  work=$(mktemp -d "${TMPDIR:-/tmp}/clusterforge-helm.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # `helm version` prints the version the release binaries carry (Helm's Makefile sets the same variable).
  GOBIN="$work" GOFLAGS=-mod=mod CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/$major/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/$major/cmd/helm@$HELM_VERSION" >&2
  mkdir -p "$out"
  # Rename into place: a concurrent build or an interrupted copy never leaves a half-written binary.
  cp "$work/helm" "$out/.helm.$$" && mv "$out/.helm.$$" "$out/helm"
  log "built helm $HELM_VERSION in $((SECONDS - started)) s -> $out"
fi
printf '%s\n' "$out/helm"
