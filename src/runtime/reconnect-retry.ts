// Keys whose reconcile failed only because the API server could not be reached wait out the queue's
// per-key back-off, which grows all through an outage (200 ms doubling: up to 25 s after a 15 s one).
// The failure said nothing about the object, so once the server answers again (the primary informer
// has listed or opened a watch since) those keys go back at once, their back-off forgotten: reconciles
// resume within a poll of the server's return instead of at each key's own next retry.
import type { InformerStats } from './list-watch.js';

/** How often it looks whether the informer has reached the server again, while keys wait. */
const POLL_MS = 250;

export class ReconnectRetry {
  private readonly keys = new Set<string>();
  private answersAtFailure = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** The primary informer's counters: a list or a watch that succeeded means the server answers. */
    private readonly stats: () => Readonly<InformerStats>,
    /** Puts a key back at once, its back-off forgotten. */
    private readonly retryNow: (key: string) => void,
  ) {}

  /** `key` failed because the server could not be reached. */
  unreachable(key: string): void {
    if (this.keys.size === 0) this.answersAtFailure = this.answers();
    this.keys.add(key);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), POLL_MS);
      this.timer.unref();
    }
  }

  /** `key` was reconciled, or failed for another reason: its own back-off rules it again. */
  settled(key: string): void {
    if (this.keys.delete(key) && this.keys.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.keys.clear();
  }

  private answers(): number {
    const s = this.stats();
    return s.lists + s.watches;
  }

  private check(): void {
    if (this.answers() <= this.answersAtFailure) return;
    const keys = [...this.keys];
    this.stop();
    for (const key of keys) this.retryNow(key);
  }
}
