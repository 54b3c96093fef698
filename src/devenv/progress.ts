// Progress of a long wait, for a person: on a terminal, one line rewritten in place (with the time
// spent); otherwise (a pipe, a CI log) one line per change, so that a log tells the story without
// repeating itself.

export interface ProgressOptions {
  /** Where to write; default process.stdout. */
  stream?: NodeJS.WriteStream;
  /** Force the terminal or the line-per-change style; default: whether the stream is a TTY. */
  tty?: boolean;
}

const SPINNER = ['|', '/', '-', '\\'];

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly started = Date.now();
  private last: string | undefined;
  private frame = 0;
  private open = false;

  constructor(
    private readonly title: string,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stdout;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
  }

  private elapsed(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1)}s`;
  }

  /** Reports the current state; on a non-terminal, only a changed state is written. */
  update(state: string): void {
    if (this.tty) {
      const spin = SPINNER[this.frame++ % SPINNER.length];
      const line = `${spin} ${this.title} [${this.elapsed()}] ${state}`;
      const width = this.stream.columns || 120;
      this.stream.write(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
      this.open = true;
    } else if (state !== this.last) {
      this.stream.write(`  [${this.elapsed().padStart(6)}] ${state}\n`);
    }
    this.last = state;
  }

  /** Ends the progress display with a final line. */
  done(message: string): void {
    if (this.tty && this.open) this.stream.write('\r\x1b[2K');
    this.open = false;
    this.stream.write(`${message} (${this.elapsed()})\n`);
  }

  /** Ends the progress display, leaving the last state visible (for an error that follows). */
  fail(): void {
    if (this.tty && this.open) this.stream.write('\n');
    this.open = false;
  }

  seconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}
