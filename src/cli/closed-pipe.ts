// A reader that goes away (`clusterforge init --dry-run | head -1`) ends the command as it ends kubectl
// and coreutils: killed by SIGPIPE, so a shell reports 141 and `set -o pipefail` sees it, and nothing is
// printed. Node ignores SIGPIPE and turns the failed write into an EPIPE 'error' event, which, unhandled,
// prints a stack trace and exits 1.

/** Dies of SIGPIPE; exit code 141 (128 + 13) if the signal could not be restored to its default. */
function dieOfSigpipe(): never {
  // Node sets SIGPIPE to SIG_IGN at start-up; libuv puts back SIG_DFL when its last listener goes.
  const noop = () => {};
  process.on('SIGPIPE', noop);
  process.removeListener('SIGPIPE', noop);
  process.kill(process.pid, 'SIGPIPE');
  process.exit(141);
}

/** Installs the handler on stdout and stderr (Go does the same for file descriptors 1 and 2). */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') dieOfSigpipe();
      throw err;
    });
  }
}
