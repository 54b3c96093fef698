// An Event recorder (events.k8s.io/v1): `kubectl describe` and `kubectl events` show what a controller did.
//
// - Identical events (same object, type, reason and note) within dedupWindowMs become one Event whose
//   `series` counts them (count, lastObservedTime), patched at most every seriesPatchIntervalMs, as
//   client-go's recorder does; an identical event after the window starts a new Event.
// - Recording never throws into the reconciler and never blocks it: event() returns at once; a failed write
//   is logged at debug level and dropped. flush() waits for the writes in flight (tests, shutdown).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { isNotFound } from './errors.js';
import { microTime } from './leader-election.js';
import { silentLogger } from './log.js';
import type { KubeObject } from './object-key.js';
import { type KubeClient, resourcePath } from './transport.js';

const EVENTS = { group: 'events.k8s.io', version: 'v1', plural: 'events' };
const MAX_NOTE_BYTES = 1024;
const MAX_ENTRIES = 4096;

export type EventType = 'Normal' | 'Warning';

/** What an event is about: an object (with apiVersion, kind and metadata) or a reference to one. */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** reportingController: a qualified name, e.g. `clusterforge.dev/cluster-controller`. */
  controller: string;
  /** reportingInstance: this process (e.g. the leader-election identity). */
  instance: string;
  log?: Logger;
  /** Default 10 minutes. */
  dedupWindowMs?: number;
  /** Default 30 s. */
  seriesPatchIntervalMs?: number;
}

/** What one event says; identical events (all but `action` the same) are counted in one Event. */
interface EventContent {
  ref: ObjectReference;
  type: EventType;
  reason: string;
  note: string;
  action: string | undefined;
}

interface Entry {
  namespace: string;
  name: string;
  count: number;
  firstAt: number;
  lastAt: number;
  lastPatchedAt: number;
  /** A series patch waiting for the throttle interval to pass. */
  timer: NodeJS.Timeout | undefined;
  /** Sends that patch now (flush()). */
  sendPending: (() => void) | undefined;
  /** Serializes the writes of one Event. */
  chain: Promise<void>;
  created: boolean;
}

function truncateBytes(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return text;
  // Cut on a character boundary: decoding a cut multi-byte sequence would add U+FFFD.
  let end = max - 3;
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return `${buf.subarray(0, end).toString('utf8')}...`;
}

/** An Event's series: how often it happened, and when last. */
function seriesOf(entry: Entry): { count: number; lastObservedTime: string } {
  return { count: entry.count, lastObservedTime: microTime(new Date(entry.lastAt)) };
}

function toReference(obj: KubeObject | ObjectReference): ObjectReference {
  if ('metadata' in obj) {
    const meta = obj.metadata ?? {};
    return {
      apiVersion: obj.apiVersion ?? '',
      kind: obj.kind ?? '',
      namespace: meta.namespace,
      name: meta.name ?? '',
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
    };
  }
  return obj as ObjectReference;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly controller: string;
  private readonly instance: string;
  private readonly log: Logger;
  private readonly windowMs: number;
  private readonly seriesPatchIntervalMs: number;
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(opts: EventRecorderOptions) {
    this.client = opts.client;
    this.controller = opts.controller;
    this.instance = opts.instance.slice(0, 128);
    this.log = (opts.log ?? silentLogger()).child({ eventRecorder: opts.controller });
    this.windowMs = opts.dedupWindowMs ?? 10 * 60_000;
    this.seriesPatchIntervalMs = opts.seriesPatchIntervalMs ?? 30_000;
  }

  normal(regarding: KubeObject | ObjectReference, reason: string, note: string, action?: string): void {
    this.event(regarding, 'Normal', reason, note, action);
  }

  warning(regarding: KubeObject | ObjectReference, reason: string, note: string, action?: string): void {
    this.event(regarding, 'Warning', reason, note, action);
  }

  /** Records an event (asynchronously; never throws). `action` defaults to `reason`. */
  event(
    regarding: KubeObject | ObjectReference,
    type: EventType,
    reason: string,
    note: string,
    action?: string,
  ): void {
    try {
      this.record({
        ref: toReference(regarding),
        type,
        reason: reason.slice(0, 128),
        note: truncateBytes(note, MAX_NOTE_BYTES),
        action,
      });
    } catch (err) {
      this.log.debug({ err }, 'could not record an event');
    }
  }

  /** Sends the series updates held back by the throttle, and waits for every write started so far. */
  async flush(): Promise<void> {
    for (const entry of this.entries.values()) entry.sendPending?.();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private record(content: EventContent): void {
    const { ref, type, reason, note } = content;
    const now = Date.now();
    this.evict(now);
    const id = `${ref.uid || `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`}\u0000${type}\u0000${reason}\u0000${note}`;
    const existing = this.entries.get(id);
    if (existing && now - existing.firstAt < this.windowMs) {
      existing.count++;
      existing.lastAt = now;
      if (existing.timer) return;
      const send = (): void => {
        if (existing.timer) clearTimeout(existing.timer);
        existing.timer = undefined;
        existing.sendPending = undefined;
        existing.lastPatchedAt = Date.now();
        this.enqueue(existing, () => this.patchSeries(existing, content));
      };
      const wait = existing.lastPatchedAt + this.seriesPatchIntervalMs - now;
      if (wait <= 0) {
        send();
        return;
      }
      existing.timer = setTimeout(send, wait);
      existing.timer.unref?.();
      existing.sendPending = send;
      return;
    }
    const entry: Entry = {
      namespace: ref.namespace || 'default',
      name: `${ref.name.slice(0, 200)}.${randomBytes(8).toString('hex')}`,
      count: 1,
      firstAt: now,
      lastAt: now,
      lastPatchedAt: now,
      timer: undefined,
      sendPending: undefined,
      chain: Promise.resolve(),
      created: false,
    };
    this.entries.set(id, entry);
    this.enqueue(entry, () => this.create(entry, content));
  }

  private enqueue(entry: Entry, write: () => Promise<void>): void {
    const next = entry.chain.then(write).catch((err: unknown) => {
      this.log.debug({ err, event: `${entry.namespace}/${entry.name}` }, 'could not write an event');
    });
    entry.chain = next;
    this.inFlight.add(next);
    void next.finally(() => this.inFlight.delete(next));
  }

  private async create(entry: Entry, { ref, type, reason, note, action }: EventContent): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: resourcePath(EVENTS, { namespace: entry.namespace }),
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: entry.name, namespace: entry.namespace },
        eventTime: microTime(new Date(entry.firstAt)),
        reportingController: this.controller,
        reportingInstance: this.instance,
        action: (action ?? reason).slice(0, 128),
        reason,
        note,
        type,
        regarding: {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          namespace: ref.namespace,
          name: ref.name,
          uid: ref.uid,
          resourceVersion: ref.resourceVersion,
        },
        ...(entry.count > 1 ? { series: seriesOf(entry) } : {}),
      },
      timeoutMs: 10_000,
    });
    entry.created = true;
  }

  private async patchSeries(entry: Entry, content: EventContent): Promise<void> {
    // The create failed (or the Event was deleted since): create it again, with its series.
    if (!entry.created) return this.create(entry, content);
    try {
      await this.client.request({
        method: 'PATCH',
        path: resourcePath(EVENTS, { namespace: entry.namespace, name: entry.name }),
        contentType: 'application/merge-patch+json',
        body: { series: seriesOf(entry) },
        timeoutMs: 10_000,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      entry.created = false;
      await this.create(entry, content);
    }
  }

  private evict(now: number): void {
    for (const [id, entry] of this.entries) {
      if (now - entry.firstAt >= this.windowMs && !entry.timer) this.entries.delete(id);
    }
    // Oldest first (Map keeps insertion order).
    while (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
