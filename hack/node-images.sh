#!/usr/bin/env bash
# Builds the images a local-provider node runs without a registry, from the Go programs in images/,
# into OCI image archives in a cache outside the repo, once per content, and prints their folder.
#
#   hack/node-images.sh          # build when missing; print the folder on stdout (logs on stderr)
#   ctr -n k8s.io images import "$(hack/node-images.sh)/pause.tar"
#
# The folder is ${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/images/<tag>/:
#   pause.tar, hello.tar   one OCI image layout each, as a tar (what `ctr images import` reads)
#   pause.ref, hello.ref   the name the archive imports as: clusterforge.dev/<image>:<tag>
# <tag> is a short hash of everything the images are made of (the files under images/, this script,
# the Go version, the target architecture and its variant): the same sources always give the same tag and the
# same bytes, and a change gives a new tag, so a name never stands for two different images.
#
# Only standard tools write the archives (go, GNU tar, gzip, sha256sum, printf): nothing is pulled,
# and no image builder leaves state on the host.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../images" && pwd)
cache_root=${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/images
images=(pause hello)

log() { printf '[node-images] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed (the images are built from images/*.go)"; exit 1; }
# The toolchain found on PATH, never one downloaded because of go.mod's `go` line.
# GOFLAGS cleared: a -race or -tags of the caller's would change the binaries behind the same tag.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOFLAGS=
arch=$(go env GOARCH)
export GOARCH=$arch

tag=$(
  {
    go version
    go env GOARCH GOAMD64 GOARM GOARM64 GOEXPERIMENT
    sha256sum "$here/node-images.sh" | cut -d' ' -f1
    (cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-12
)
out="$cache_root/$tag"

built() {
  local name
  for name in "${images[@]}"; do [ -s "$out/$name.tar" ] && [ -s "$out/$name.ref" ] || return 1; done
}
if built; then
  printf '%s\n' "$out"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/clusterforge-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "building ${images[*]} ($tag) in $work"
started=$SECONDS

# Fixed owner, mode order and times: the same input gives byte-identical tars.
det_tar() { tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar "$@"; }
digest() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# Moves a file into the layout's blob store under its digest; prints the digest.
add_blob() {
  local layout=$1 file=$2 d
  d=$(digest "$file")
  mv "$file" "$layout/blobs/sha256/$d"
  printf '%s' "$d"
}

# image <name> <user> <exposed ports JSON>: builds images/<name> into <name>.tar
image() {
  local name=$1 user=$2 ports=$3
  local ref="clusterforge.dev/$name:$tag"
  local stage="$work/$name/rootfs" layout="$work/$name/layout"
  mkdir -p "$stage" "$layout/blobs/sha256"

  (cd "$src" && go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=$tag" \
    -o "$stage/$name" "./$name") >&2
  chmod 0755 "$stage/$name"

  # The layer: the binary alone, at /<name>. Its config names the uncompressed digest (diff ID),
  # its manifest the gzipped one; gzip -n keeps no name nor time, so the blob is deterministic.
  det_tar -C "$stage" -cf "$work/$name/layer.tar" "$name"
  local diff_id
  diff_id=$(digest "$work/$name/layer.tar")
  gzip -n -9 "$work/$name/layer.tar"
  local layer_size layer
  layer_size=$(size "$work/$name/layer.tar.gz")
  layer=$(add_blob "$layout" "$work/$name/layer.tar.gz")

  # User: numeric, as there is no /etc/passwd in the image. PATH=/ lets `hello get ...` run by name.
  printf '{"created":"1970-01-01T00:00:00Z","architecture":"%s","os":"linux",' "$arch" >"$work/$name/config.json"
  printf '"config":{"User":"%s","Env":["PATH=/"],"Entrypoint":["/%s"],"WorkingDir":"/",' "$user" "$name" >>"$work/$name/config.json"
  printf '"ExposedPorts":%s,"StopSignal":"SIGTERM","Labels":{"org.opencontainers.image.version":"%s"}},' "$ports" "$tag" >>"$work/$name/config.json"
  printf '"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},' "$diff_id" >>"$work/$name/config.json"
  printf '"history":[{"created":"1970-01-01T00:00:00Z","created_by":"hack/node-images.sh"}]}' >>"$work/$name/config.json"
  local config_size config
  config_size=$(size "$work/$name/config.json")
  config=$(add_blob "$layout" "$work/$name/config.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' >"$work/$name/manifest.json"
  printf '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},' "$config" "$config_size" >>"$work/$name/manifest.json"
  printf '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$layer" "$layer_size" >>"$work/$name/manifest.json"
  local manifest_size manifest
  manifest_size=$(size "$work/$name/manifest.json")
  manifest=$(add_blob "$layout" "$work/$name/manifest.json")

  # containerd's importer names the image from io.containerd.image.name, else from
  # org.opencontainers.image.ref.name (kept as is when it is a full reference, as here).
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[' >"$layout/index.json"
  printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,' "$manifest" "$manifest_size" >>"$layout/index.json"
  printf '"platform":{"architecture":"%s","os":"linux"},' "$arch" >>"$layout/index.json"
  printf '"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' "$ref" "$ref" >>"$layout/index.json"

  det_tar -C "$layout" -cf "$work/out/$name.tar" oci-layout index.json blobs
  printf '%s\n' "$ref" >"$work/out/$name.ref"
}

mkdir -p "$work/out"
# pause runs as 65535 as the upstream sandbox image does; hello as an unprivileged user too.
image pause 65535:65535 '{}'
image hello 65532:65532 '{"8080/tcp":{}}'

mkdir -p "$cache_root"
# A folder left incomplete (by hand, or a full disk) is replaced; a complete one is never touched.
if [ -e "$out" ] && ! built; then rm -rf "$out"; fi
rm -rf "$out.partial.$$" && mv "$work/out" "$out.partial.$$"
# Another build of the same tag may have finished first: its bytes are the same, keep either.
if ! mv -T "$out.partial.$$" "$out" 2>/dev/null; then rm -rf "$out.partial.$$"; fi
log "built ${images[*]} ($tag) in $((SECONDS - started)) s -> $out"
printf '%s\n' "$out"
