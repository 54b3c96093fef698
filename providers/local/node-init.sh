#!/bin/bash
# One kubelet worker of the local provider: its own containerd and a kubelet, in a mount namespace
# and a cgroup subtree of their own, so that nothing they mount lands on the host and everything
# they start (shims and containers included) can be found and stopped.
#
#   /bin/bash node-init.sh NODE_DIR        (NODE_DIR/node.env says the rest; kubelet.args, images.list)
#
# It re-executes itself inside `unshare`: the pid and the command line stay the ones the supervisor
# started, so a restarted operator adopts it like any other process. A start after a crash is a
# reboot: whatever the last run left in the cgroup subtree is killed first.
set -euo pipefail
node_dir=$1
if [ "${CLUSTERFORGE_NODE_NS:-}" != "$node_dir" ]; then
  exec unshare --mount --propagation private env CLUSTERFORGE_NODE_NS="$node_dir" /bin/bash "$0" "$@"
fi
# shellcheck source=/dev/null
. "$node_dir/node.env" # CGROUP, BRIDGE, BRIDGE_ADDRESS, CONTAINERD, CTR, KUBELET

log() { printf '%s node-init: %s\n' "$(date -u +%FT%TZ)" "$*"; }

# The cgroup v1 hierarchies (cgroup v2's unified tree is left alone).
hierarchies() {
  local dir
  for dir in /sys/fs/cgroup/*; do
    [ -d "$dir" ] && [ ! -L "$dir" ] && [ -f "$dir/cgroup.procs" ] && [ "${dir##*/}" != unified ] && echo "$dir"
  done
}

# 1. What a previous run left behind goes: its processes, then its pod network's bridge.
leftovers=$(find "/sys/fs/cgroup/pids/$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -vx "$$" || true)
if [ -n "$leftovers" ]; then
  log "killing $(echo "$leftovers" | wc -l) process(es) left by an earlier run"
  # shellcheck disable=SC2086 # one pid per word
  kill -KILL $leftovers 2>/dev/null || true
fi
ip link delete "$BRIDGE" 2>/dev/null || true
# The pod bridge, with the node's subnet's first address: the host reaches pods on-link (the
# kubelet's HTTP probes, the API server's proxy); the CNI bridge plugin finds it made.
ip link add "$BRIDGE" type bridge
ip addr add "$BRIDGE_ADDRESS" dev "$BRIDGE"
ip link set "$BRIDGE" up

# 2. Join the node's cgroup in every hierarchy: containerd, its shims, the kubelet and every
#    container start below it. cpuset needs its cpus and mems set before a task may join.
for h in $(hierarchies); do
  path=$h
  for part in ${CGROUP//\// }; do
    parent=$path
    path=$path/$part
    mkdir -p "$path"
    if [ "${h##*/}" = cpuset ]; then
      [ -n "$(cat "$path/cpuset.cpus")" ] || cat "$parent/cpuset.cpus" >"$path/cpuset.cpus"
      [ -n "$(cat "$path/cpuset.mems")" ] || cat "$parent/cpuset.mems" >"$path/cpuset.mems"
    fi
  done
  echo $$ >"$path/cgroup.procs"
done

# 3. The host paths a kubelet and containerd write to without asking are this namespace's own:
#    /run (containerd's state and shim sockets, network namespaces), /var/lib (device plugins,
#    CNI results), /var/log; the node's folders on disk are bound at the usual places (short
#    paths for sockets and overlay mounts); the sysctls the kubelet sets are shadowed by files.
mount -t tmpfs -o mode=0755 clusterforge-node-run /run
mount -t tmpfs -o mode=0755 clusterforge-node-lib /var/lib
mount -t tmpfs -o mode=0755 clusterforge-node-log /var/log
mkdir -p /run/containerd /run/netns /var/lib/cni /var/log/containers
for bound in kubelet:/var/lib/kubelet containerd:/var/lib/containerd logs/pods:/var/log/pods; do
  mkdir -p "$node_dir/${bound%%:*}" "${bound#*:}"
  mount --bind "$node_dir/${bound%%:*}" "${bound#*:}"
done
mkdir -p "$node_dir/sysctl"
for s in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do
  shadow="$node_dir/sysctl/${s//\//.}"
  cat "/proc/sys/$s" >"$shadow"
  mount --bind "$shadow" "/proc/sys/$s"
done

# 4. containerd, then the images the node starts with, then the kubelet.
"$CONTAINERD" --config "$node_dir/containerd.toml" >>"$node_dir/logs/containerd.log" 2>&1 &
containerd_pid=$!
socket=/run/containerd/containerd.sock
for _ in $(seq 300); do
  [ -S "$socket" ] && break
  kill -0 "$containerd_pid" 2>/dev/null || { log "containerd exited at start (logs/containerd.log)"; exit 1; }
  sleep 0.1
done
[ -S "$socket" ] || { log "containerd did not open $socket in 30 s"; exit 1; }
while IFS= read -r archive; do
  [ -n "$archive" ] || continue
  "$CTR" --address "$socket" -n k8s.io images import "$archive" >/dev/null
  log "image loaded: $archive"
done <"$node_dir/images.list"

mapfile -t kubelet_args <"$node_dir/kubelet.args"
"$KUBELET" "${kubelet_args[@]}" >>"$node_dir/logs/kubelet.log" 2>&1 &
kubelet_pid=$!
log "containerd ($containerd_pid) and kubelet ($kubelet_pid) started"

stop() {
  log "stopping"
  kill -TERM "$kubelet_pid" 2>/dev/null || true
  wait "$kubelet_pid" 2>/dev/null || true
  kill -TERM "$containerd_pid" 2>/dev/null || true
  wait "$containerd_pid" 2>/dev/null || true
  exit 0
}
trap stop TERM INT

# The node is down when either exits; the supervisor starts it again.
set +e
wait -n "$containerd_pid" "$kubelet_pid"
status=$?
log "containerd or kubelet exited ($status)"
kill -TERM "$kubelet_pid" "$containerd_pid" 2>/dev/null
exit 1
