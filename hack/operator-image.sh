#!/usr/bin/env bash
# Builds the operator image (what the Containerfile describes) without an image builder or a daemon:
# an OCI image layout written with standard tools, from what the registries serve (the Node.js binary
# the npm registry ships, Debian's packages of its shared libraries and CA certificates, the npm
# packages of package-lock.json). Needs `npm run build` first (make image does it).
#
#   hack/operator-image.sh      # writes dist/image/clusterforge-operator.{tar,ref}; prints the tar's path
#   ctr -n k8s.io images import dist/image/clusterforge-operator.tar
#   skopeo copy oci-archive:dist/image/clusterforge-operator.tar docker://registry.example/clusterforge:v0.1.0
#
# Two layers, both cached by content under ${CLUSTERFORGE_CACHE:-~/.cache/clusterforge}/operator-image/:
#   base-<hash>   Node.js, glibc, libstdc++, libgcc, CA certificates, /etc/passwd and /etc/group for
#                 65532, /tmp; <hash> covers this script, the Node version, the architecture and the
#                 Debian package versions
#   app-<hash>    /app: dist/, production node_modules, crds/, templates/, bin/, package.json,
#                 hack/kube-versions; <hash> also covers those files and package-lock.json
# The tars are deterministic (sorted names, time 0, numeric owners, gzip -n): the same inputs give
# the same digests. A warm run only hashes the inputs and writes the small config, manifest and index.
#
# NODE_VERSION overrides the Node.js release (a version of the npm package node-linux-<arch>).
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cache=${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clusterforge}/operator-image
out_dir=$root/dist/image
node_version=${NODE_VERSION:-20.20.2}
debs=(libc6 libstdc++6 libgcc-s1 ca-certificates)

log() { printf '[operator-image] %s\n' "$*" >&2; }
started=$SECONDS

[ -f "$root/dist/src/cli/main.js" ] || { log "dist/ is not built: run \`npm run build\` (make image does)"; exit 1; }
for tool in npm apt-get apt-cache dpkg-deb sha256sum gzip tar; do
  command -v "$tool" >/dev/null || { log "$tool is missing (the image is made from npm and Debian packages)"; exit 1; }
done

case $(uname -m) in
  x86_64) arch=amd64 node_arch=x64 multiarch=x86_64-linux-gnu ld=ld-linux-x86-64.so.2 ld_dir=lib64 ;;
  aarch64) arch=arm64 node_arch=arm64 multiarch=aarch64-linux-gnu ld=ld-linux-aarch64.so.1 ld_dir=lib ;;
  *) log "unsupported architecture $(uname -m)"; exit 1 ;;
esac

version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/package.json" | head -1)
ref="ghcr.io/clusterforge/clusterforge:v$version"
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
source_url=https://github.com/clusterforge/clusterforge

# The candidate version of each Debian package: a new security update gives a new base.
# One apt-cache call for all: each call loads the package lists (a second or more).
deb_versions=$(apt-cache show --no-all-versions "${debs[@]}" 2>/dev/null | awk '/^Package: /{p=$2} /^Version: /{print p "=" $2}')
if [ "$(wc -l <<<"$deb_versions")" -ne "${#debs[@]}" ]; then
  log "apt-cache does not know all of ${debs[*]} (run apt-get update)"
  exit 1
fi

hash12() { sha256sum | cut -c1-12; }
files_hash() { (cd "$root" && find "$@" -type f -not -path 'dist/image/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
base_tag=$({ sha256sum "$here/operator-image.sh" | cut -d' ' -f1; echo "$node_version $arch"; echo "$deb_versions"; } | hash12)
app_tag=$({ echo "$base_tag"; files_hash dist crds templates bin package.json package-lock.json hack/kube-versions; } | hash12)

work=$(mktemp -d "${TMPDIR:-/tmp}/clusterforge-operator-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache/downloads" "$work/layout/blobs/sha256"

det_tar() { tar --sort=name --mtime=@0 --numeric-owner --format=gnu "$@"; }
digest() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# layer <name> <tag> <fill function>: the cached <name>-<tag>.tar.gz and its diff ID, built when missing
# by <fill function> <rootfs> <tar>.
layer() {
  local name=$1 tag=$2 fill=$3 dir="$cache/$1-$2"
  if [ ! -s "$dir/layer.tar.gz" ] || [ ! -s "$dir/diff_id" ]; then
    log "building the $name layer ($tag)"
    local t=$SECONDS stage="$work/$name"
    mkdir -p "$stage/rootfs"
    "$fill" "$stage/rootfs" "$stage/layer.tar"
    digest "$stage/layer.tar" >"$stage/diff_id"
    gzip -n -6 "$stage/layer.tar"
    rm -rf "$dir.partial.$$" "$stage/rootfs" && mkdir -p "$dir.partial.$$"
    mv "$stage/layer.tar.gz" "$stage/diff_id" "$dir.partial.$$/"
    rm -rf "$dir" && mv -T "$dir.partial.$$" "$dir"
    log "built the $name layer in $((SECONDS - t)) s ($(( $(size "$dir/layer.tar.gz") / 1048576 )) MiB gzipped)"
  fi
}

# A download cached by file name: the registries serve the same bytes for the same version.
fetch_node() {
  local tgz="$cache/downloads/node-linux-$node_arch-$node_version.tgz"
  if [ ! -s "$tgz" ]; then
    log "fetching node-linux-$node_arch@$node_version from the npm registry"
    (cd "$work" && npm pack --silent "node-linux-$node_arch@$node_version" >/dev/null)
    mv "$work/node-linux-$node_arch-$node_version.tgz" "$tgz"
  fi
  printf '%s' "$tgz"
}
fetch_deb() {
  local pkg=$1 ver=$2 f
  f=$(find "$cache/downloads" -maxdepth 1 -name "${pkg}_$(sed 's/:/%3a/' <<<"$ver")_*.deb" | head -1)
  if [ -z "$f" ]; then
    # apt-get download writes into the current folder; the _apt sandbox may not reach a private one.
    (cd "$work" && apt-get download -qq "$pkg=$ver" 2>/dev/null) >&2
    f=$(find "$work" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
    mv "$f" "$cache/downloads/" && f="$cache/downloads/$(basename "$f")"
  fi
  printf '%s' "$f"
}

fill_base() {
  local r=$1 tar=$2 debroot="$work/debs" p v
  mkdir -p "$debroot"
  while IFS== read -r p v; do dpkg-deb -x "$(fetch_deb "$p" "$v")" "$debroot"; done <<<"$deb_versions"

  # Node's binary and licence; it needs these libraries and no other (ldd on the binary):
  # libc, libm, libdl, libpthread, libstdc++, libgcc_s and the loader. libresolv and libnss_* too,
  # for getaddrinfo (dns.lookup) against /etc/hosts and the cluster's DNS.
  tar -xzf "$(fetch_node)" -C "$work" package/bin/node package/LICENSE
  install -D -m 0755 "$work/package/bin/node" "$r/usr/local/bin/node"
  install -D -m 0644 "$work/package/LICENSE" "$r/usr/local/share/doc/node/LICENSE"
  mkdir -p "$r/lib/$multiarch" "$r/usr/lib/$multiarch"
  for lib in "$ld" libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2 \
    libnss_files.so.2 libnss_dns.so.2 libgcc_s.so.1; do
    cp -L "$debroot/lib/$multiarch/$lib" "$r/lib/$multiarch/$lib"
  done
  cp -L "$debroot/usr/lib/$multiarch/libstdc++.so.6" "$r/usr/lib/$multiarch/libstdc++.so.6"
  if [ "$ld_dir" != lib ]; then mkdir -p "$r/$ld_dir" && ln -s "/lib/$multiarch/$ld" "$r/$ld_dir/$ld"; fi
  # The packages' licences (libstdc++6 and libgcc-s1 point theirs at gcc's base package: none here).
  for p in "${debs[@]}"; do
    if [ -f "$debroot/usr/share/doc/$p/copyright" ]; then
      install -D -m 0644 "$debroot/usr/share/doc/$p/copyright" "$r/usr/share/doc/$p/copyright"
    fi
  done

  # The CA bundle update-ca-certificates would write: every certificate of the package, in name order.
  mkdir -p "$r/etc/ssl/certs"
  find "$debroot/usr/share/ca-certificates" -name '*.crt' -print0 | LC_ALL=C sort -z | xargs -0 cat >"$r/etc/ssl/certs/ca-certificates.crt"

  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$r/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r/etc/nsswitch.conf"
  mkdir -p "$r/tmp" "$r/home/nonroot" "$r/root" && chmod 1777 "$r/tmp" && chmod 0700 "$r/root"
  # Everything owned by root, but the user's home, appended with its own owner.
  (cd "$r" && det_tar --owner=0 --group=0 --exclude=./home/nonroot -cf "$tar" .)
  (cd "$r" && det_tar --owner=65532 --group=65532 --no-recursion -rf "$tar" ./home/nonroot)
}

fill_app() {
  local r=$1 tar=$2 app="$1/app"
  mkdir -p "$app/hack"
  # Production dependencies only, installed in a staging folder from the lock file (never in the
  # repository), from the npm cache when it has them; no install script runs.
  cp "$root/package.json" "$root/package-lock.json" "$app/"
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error) >&2
  rm "$app/package-lock.json"
  # What only the compiler reads: type declarations and source maps (about a third of node_modules).
  find "$app/node_modules" -depth \( -name dist-types -type d -exec rm -rf {} + \) -o \
    \( -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete \)
  rm -rf "$app/node_modules/@types"
  cp -r "$root/bin" "$root/crds" "$root/templates" "$app/"
  cp "$root/hack/kube-versions" "$app/hack/"
  (cd "$root" && tar --exclude=./dist/image -cf - ./dist) | tar -xf - -C "$app"
  chmod -R u+rwX,go+rX,go-w "$app"
  (cd "$r" && det_tar --owner=0 --group=0 -cf "$tar" ./app)
}

layer base "$base_tag" fill_base
layer app "$app_tag" fill_app
base_dir="$cache/base-$base_tag" app_dir="$cache/app-$app_tag"

# The image: config, manifest, index around the two cached layers. Small, so written every run.
layout="$work/layout"
blob() { local d; d=$(digest "$1"); cp "$1" "$layout/blobs/sha256/$d"; printf '%s' "$d"; }
base_blob=$(blob "$base_dir/layer.tar.gz") app_blob=$(blob "$app_dir/layer.tar.gz")
{
  printf '{"created":"1970-01-01T00:00:00Z","architecture":"%s","os":"linux",' "$arch"
  printf '"config":{"User":"65532:65532","Env":["PATH=/usr/local/bin","NODE_ENV=production","SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],'
  printf '"Entrypoint":["/usr/local/bin/node","/app/bin/clusterforge.js"],"Cmd":["operator"],"WorkingDir":"/app",'
  printf '"StopSignal":"SIGTERM","Labels":{"org.opencontainers.image.source":"%s","org.opencontainers.image.version":"%s",' "$source_url" "$version"
  printf '"org.opencontainers.image.revision":"%s","org.opencontainers.image.title":"clusterforge","org.opencontainers.image.licenses":"Apache-2.0"}},' "$revision"
  printf '"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]},' "$(cat "$base_dir/diff_id")" "$(cat "$app_dir/diff_id")"
  printf '"history":[{"created":"1970-01-01T00:00:00Z","created_by":"hack/operator-image.sh: Node.js %s and Debian %s"},' "$node_version" "$(tr '\n' ' ' <<<"$deb_versions" | sed 's/ $//')"
  printf '{"created":"1970-01-01T00:00:00Z","created_by":"hack/operator-image.sh: /app"}]}'
} >"$work/config.json"
config_size=$(size "$work/config.json") config=$(blob "$work/config.json")
{
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
  printf '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},' "$config" "$config_size"
  printf '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s},' "$base_blob" "$(size "$base_dir/layer.tar.gz")"
  printf '{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$app_blob" "$(size "$app_dir/layer.tar.gz")"
} >"$work/manifest.json"
manifest_size=$(size "$work/manifest.json") manifest=$(blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
# containerd's importer names the image from io.containerd.image.name; skopeo and podman read
# org.opencontainers.image.ref.name.
{
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
  printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,' "$manifest" "$manifest_size"
  printf '"platform":{"architecture":"%s","os":"linux"},' "$arch"
  printf '"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' "$ref" "$ref"
} >"$layout/index.json"

mkdir -p "$out_dir"
det_tar --owner=0 --group=0 --format=ustar -C "$layout" -cf "$out_dir/clusterforge-operator.tar.partial.$$" oci-layout index.json blobs
mv "$out_dir/clusterforge-operator.tar.partial.$$" "$out_dir/clusterforge-operator.tar"
printf '%s\n' "$ref" >"$out_dir/clusterforge-operator.ref"
log "$ref (manifest sha256:${manifest:0:12}, $(( $(size "$out_dir/clusterforge-operator.tar") / 1048576 )) MiB) in $((SECONDS - started)) s"
printf '%s\n' "$out_dir/clusterforge-operator.tar"
