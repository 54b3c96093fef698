#!/usr/bin/env bash
# Builds promtool (Prometheus's rule checker and rule unit-tester) from the published Go module into
# a cache outside the repo, once per version, and prints its path on stdout. The alert-rule test
# (test/integration/observability/) runs it on docs/observability/.
#
#   hack/promtool.sh            # PROMTOOL_VERSION below
#   PROMTOOL=$(hack/promtool.sh)
#
# The cache is ${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/tools/promtool/<version>/.
# Built with the remove_all_sd tag: promtool then leaves out every service-discovery plugin (the
# cloud SDKs), which rule checks never use and which would take most of the build.
set -euo pipefail

# Prometheus v3.x is published as Go module version v0.3xx.y.
PROMTOOL_VERSION=${PROMTOOL_VERSION:-v0.316.0}
out=${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/tools/promtool/$PROMTOOL_VERSION

log() { printf '[promtool] %s\n' "$*" >&2; }

# One build at a time: a caller that comes while make test's background build runs waits for it
# (hack/with-background-builds.sh) and then finds the binary, instead of building it a second time.
if [ ! -x "$out/promtool" ]; then
  mkdir -p "$out"
  exec 9>"$out/.build.lock"
  flock 9
fi
if [ ! -x "$out/promtool" ]; then
  log "building promtool $PROMTOOL_VERSION (first time only; a few minutes)"
  started=$SECONDS
  work=$(mktemp -d "${TMPDIR:-/tmp}/clusterforge-promtool.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  GOBIN="$work" GOFLAGS=-mod=mod go install -trimpath -ldflags '-s -w' -tags remove_all_sd \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION" >&2
  mkdir -p "$out"
  # Rename into place: a concurrent build or an interrupted copy never leaves a half-written binary.
  cp "$work/promtool" "$out/.promtool.$$" && mv "$out/.promtool.$$" "$out/promtool"
  log "built promtool $PROMTOOL_VERSION in $((SECONDS - started)) s -> $out"
fi
printf '%s\n' "$out/promtool"
