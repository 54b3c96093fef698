#!/usr/bin/env bash
# Runs a command (make test's vitest) while the kube binaries of the other versions in hack/kube-versions
# build in the background, at a low CPU priority: on a cold machine their build then overlaps the tests,
# which mostly wait on servers, instead of coming before them. The tests that run another version's
# binaries wait for them (test/support/kube-binaries.ts) and run last (test/env/sequencer.ts).
#
#   hack/with-kube-builds.sh npx vitest run
#
# Exits with the command's status, or the build's when the command passed and the build failed. The
# build is waited for, and stopped if the command is interrupted, so nothing is left running.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mapfile -t versions < <(grep -Ev '^\s*(#|$)' "$here/kube-versions")
others=("${versions[@]:1}")

build_pid=
if [ ${#others[@]} -gt 0 ]; then
  # Its own process group, so that stopping it stops its go build too.
  setsid nice -n 10 "$here/kube-assets.sh" "${others[@]}" >/dev/null &
  build_pid=$!
fi
stop_build() {
  if [ -n "$build_pid" ] && kill -0 "$build_pid" 2>/dev/null; then
    kill -TERM -- "-$build_pid" 2>/dev/null
    wait "$build_pid" 2>/dev/null
  fi
}
trap 'stop_build; exit 130' INT TERM

"$@"
status=$?
trap - INT TERM
if [ -n "$build_pid" ]; then
  wait "$build_pid"
  build_status=$?
  if [ "$build_status" -ne 0 ]; then
    echo "[kube-assets] the background build of ${others[*]} failed (exit $build_status)" >&2
    [ "$status" -eq 0 ] && status=$build_status
  fi
fi
exit "$status"
