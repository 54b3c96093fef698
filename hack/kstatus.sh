#!/usr/bin/env bash
# Builds the kstatus tool the tests run (test/support/kstatus: sigs.k8s.io/cli-utils' kstatus, the
# health rules Flux uses) from the published Go modules into a cache outside the repo, once per
# content, and prints the binary's path on stdout (build logs on stderr).
#
#   hack/kstatus.sh                          # build when missing; print the path
#   kubectl get cluster a -o json | "$(hack/kstatus.sh)"
#
# The binary is ${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/tools/kstatus-<tag>,
# <tag> a short hash of its sources (go.mod and go.sum pin every module), this script and the Go
# version: a change of any of them builds a new binary, the same ones reuse it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../test/support/kstatus" && pwd)
cache_root=${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/tools

log() { printf '[kstatus] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed (the tool is built from test/support/kstatus)"; exit 1; }
# The toolchain on PATH, never one downloaded for go.mod's `go` line; the caller's GOFLAGS do not
# leak in; -mod=readonly: go.sum must already hold every module, so the build is the committed one.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly

tag=$(
  {
    go version
    sha256sum "$here/kstatus.sh" | cut -d' ' -f1
    (cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-12
)
out="$cache_root/kstatus-$tag"
if [ -x "$out" ]; then
  printf '%s\n' "$out"
  exit 0
fi

mkdir -p "$cache_root"
log "building $out (first time only)"
# Built beside its final name, then renamed: a concurrent caller never runs half a binary.
tmp=$(mktemp "$cache_root/.kstatus.XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd "$src" && go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp" .) >&2
chmod 0755 "$tmp"
mv "$tmp" "$out"
printf '%s\n' "$out"
