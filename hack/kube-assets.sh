#!/usr/bin/env bash
# Builds etcd and the Kubernetes binaries a local cluster runs (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet) from the published Go modules into a cache outside the repo, once per
# Kubernetes version, and prints the folder of the first version asked for. Binaries already in the
# cache are kept; only the missing ones are built, in one `go build` so that they share its work.
#
#   hack/kube-assets.sh                 # the versions in hack/kube-versions
#   hack/kube-assets.sh v1.37.2 v1.36.3 # these versions
#
# The cache is ${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/kube/<version>/,
# laid out as envtest expects (KUBEBUILDER_ASSETS=<that folder>). Build logs go to stderr so that
# `KUBEBUILDER_ASSETS=$(hack/kube-assets.sh)` works.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/kube

if [ $# -eq 0 ]; then
  mapfile -t versions < <(grep -Ev '^\s*(#|$)' "$here/kube-versions")
else
  versions=("$@")
fi

log() { printf '[kube-assets] %s\n' "$*" >&2; }

build_one() {
  local version=$1
  [[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { log "not a Kubernetes release: '$version' (want v1.MINOR.PATCH)"; return 1; }
  local minor=${BASH_REMATCH[1]} patch=${BASH_REMATCH[2]}
  local staging="v0.${minor}.${patch}"
  local out="$cache_root/$version"
  local kube_binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet) missing=() b
  for b in "${kube_binaries[@]}"; do [ -x "$out/$b" ] || missing+=("$b"); done
  if [ ${#missing[@]} -eq 0 ] && [ -x "$out/etcd" ]; then
    return 0
  fi

  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/clusterforge-kube-build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the trap must remove this build's folder
  trap "rm -rf '$work'" RETURN
  log "building ${missing[*]} $( [ -x "$out/etcd" ] || echo etcd) $version in $work (first time only; several minutes)"
  local started=$SECONDS

  # The module graph: k8s.io/kubernetes at the release, its staging modules (listed at v0.0.0 and
  # replaced by ./staging paths upstream) pointed at their published v0.MINOR.PATCH twins.
  (
    cd "$work"
    go mod init clusterforge.dev/kube-assets >/dev/null 2>&1
    local modfile
    modfile=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    [ -n "$modfile" ] || { log "could not download k8s.io/kubernetes@$version"; exit 1; }
    go mod edit -require="k8s.io/kubernetes@$version"
    sed -n '/^replace (/,/^)/p' "$modfile" | awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' |
      while read -r mod; do go mod edit -replace="$mod=$mod@$staging"; done

    # etcd's own main, built from go.etcd.io/etcd/server/v3 at the version this release requires.
    mkdir -p etcd
    cat > etcd/main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
    go mod tidy >&2
    local ldflags="-s -w"
    for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
      ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    mkdir -p "$work/bin"
    if [ ${#missing[@]} -gt 0 ]; then
      go build -trimpath -ldflags "$ldflags" -o "$work/bin/" "${missing[@]/#/k8s.io/kubernetes/cmd/}" >&2
    fi
    [ -x "$out/etcd" ] || go build -trimpath -ldflags "-s -w" -o "$work/bin/etcd" ./etcd >&2
  )
  # Each binary lands whole or not at all: copied next to its place, then renamed onto it.
  mkdir -p "$out"
  for b in "$work"/bin/*; do
    cp "$b" "$out/.$(basename "$b").partial" && mv "$out/.$(basename "$b").partial" "$out/$(basename "$b")"
  done
  log "built $version in $((SECONDS - started)) s -> $out"
}

# Two checkouts' `make test` at once build each version once: the second waits for the first, then
# finds the binaries in place.
mkdir -p "$cache_root"
exec {lock}>"$cache_root/.build.lock"
if ! flock -n "$lock"; then
  log "another build of the kube binaries is running; waiting for it"
  flock "$lock"
fi
for v in "${versions[@]}"; do build_one "$v"; done
printf '%s\n' "$cache_root/${versions[0]}"
