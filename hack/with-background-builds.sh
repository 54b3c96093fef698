#!/usr/bin/env bash
# Runs a command (make test's vitest) while the tools only some tests need build in the background, one
# after the other, at a low CPU priority: helm (the chart tests), promtool (the alert rules), then the
# kube binaries of the other versions in hack/kube-versions (the upgrade tests). On a cold machine those
# builds then overlap the tests, which mostly wait on servers, instead of coming before them.
# - A test that needs helm or promtool runs its script (hack/helm.sh, hack/promtool.sh), which waits on
#   the build's lock and then finds the binary.
# - The tests that run another version's binaries wait for them (test/support/kube-binaries.ts) and run
#   last (test/env/sequencer.ts).
#
#   hack/with-background-builds.sh npx vitest run
#
# Exits with the command's status, or the builds' when the command passed and a build failed. The builds
# are waited for, and stopped if the command is interrupted, so nothing is left running.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mapfile -t versions < <(grep -Ev '^\s*(#|$)' "$here/kube-versions")
others=("${versions[@]:1}")

builds() {
  "$here/helm.sh" && "$here/promtool.sh" || return 1
  if [ ${#others[@]} -gt 0 ]; then "$here/kube-assets.sh" "${others[@]}" || return 1; fi
}

# Its own process group, so that stopping it stops its go build too. The scripts print the paths they
# built on stdout (dropped) and their progress on stderr.
export here
export -f builds
setsid nice -n 10 bash -c "$(declare -p others); builds" >/dev/null &
build_pid=$!
stop_build() {
  if kill -0 "$build_pid" 2>/dev/null; then
    kill -TERM -- "-$build_pid" 2>/dev/null
    wait "$build_pid" 2>/dev/null
  fi
}
trap 'stop_build; exit 130' INT TERM

"$@"
status=$?
trap - INT TERM
wait "$build_pid"
build_status=$?
if [ "$build_status" -ne 0 ]; then
  echo "[background builds] helm, promtool or the kube binaries of ${others[*]} failed (exit $build_status)" >&2
  [ "$status" -eq 0 ] && status=$build_status
fi
exit "$status"
