import type { Logger } from 'pino';
import type { Db } from '../db/knex';
import { transitionEventsAfter, type TransitionEvent } from '../db/repositories/analytics';
import { findProgressById, rowToState } from '../db/repositories/progress';
import { withTenant, type Tenant } from '../db/tenant';
import type { TourState } from '../domain/tour-state';
import type { ProgressFeed } from './progress-feed';
import { notFound, ok, refuse, type Result } from './result';

/** One message of a progress stream: the state at `version` and the transitions' events since the last one sent. */
export interface ProgressUpdate {
  version: number;
  state: TourState;
  events: TransitionEvent[];
}

export interface ProgressSubscription {
  /** Starts delivering: updates found before this call are delivered first, in order. */
  start(onUpdate: (update: ProgressUpdate) => void, onEnd: () => void): void;
  stop(): void;
}

/**
 * What one API process's open streams of one progress share: the feed's announcements, and one read
 * of the row (and of the events since the oldest version any of them has) per announcement, fanned out
 * to each stream that has not seen that version yet. Reads run one at a time; announcements arriving
 * during a read are folded into one more read.
 */
class Watcher {
  readonly subscribers = new Set<Subscriber>();
  private reading = false;
  private again = false;
  private readonly unwatch: () => void;

  constructor(
    private readonly progressId: string,
    private readonly deps: { db: Db; feed: ProgressFeed; logger: Logger },
    private readonly onEmpty: () => void,
  ) {
    this.unwatch = deps.feed.watch(progressId, (version) => {
      if ([...this.subscribers].some((s) => s.after < version)) this.read();
    });
  }

  read(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.readOnce().finally(() => {
      this.reading = false;
      if (this.again && this.subscribers.size > 0) {
        this.again = false;
        this.read();
      }
    });
  }

  private async readOnce(): Promise<void> {
    const reader = this.subscribers.values().next().value;
    if (!reader) return;
    // A stream that has a version wants the transitions since; a new one only the current state.
    const known = [...this.subscribers].map((s) => s.after).filter((v) => v >= 0);
    try {
      const found = await withTenant(this.deps.db, reader.auth, async (trx) => {
        const row = await findProgressById(trx, this.progressId);
        if (!row) return undefined;
        const events = known.length > 0 && row.version > Math.min(...known) ? await transitionEventsAfter(trx, this.progressId, Math.min(...known)) : [];
        return { state: rowToState(row), events };
      });
      if (!found) return; // erased, or no longer visible: the stream stays open and quiet
      for (const s of this.subscribers) s.offer(found.state, found.events);
    } catch (err) {
      // The next announcement (or the client's reconnect) reads again; nothing is marked as sent.
      this.deps.logger.warn({ err, progressId: this.progressId }, 'progress stream read failed');
    }
  }

  remove(s: Subscriber): void {
    this.subscribers.delete(s);
    if (this.subscribers.size === 0) {
      this.unwatch();
      this.onEmpty();
    }
  }
}

class Subscriber implements ProgressSubscription {
  private deliver: ((u: ProgressUpdate) => void) | undefined;
  private end: (() => void) | undefined;
  private readonly queued: ProgressUpdate[] = [];
  private stopped = false;

  constructor(
    readonly auth: Tenant,
    /** The last version this stream has (sent, or given as Last-Event-ID); -1 before any. */
    public after: number,
    private readonly watcher: Watcher,
  ) {}

  offer(state: TourState, events: TransitionEvent[]): void {
    if (this.stopped || state.version <= this.after) return;
    const since = this.after < 0 ? [] : events.filter((e) => e.version > this.after && e.version <= state.version);
    const update = { version: state.version, state, events: since };
    this.after = state.version;
    if (this.deliver) this.deliver(update);
    else this.queued.push(update);
  }

  start(onUpdate: (update: ProgressUpdate) => void, onEnd: () => void): void {
    this.deliver = onUpdate;
    this.end = onEnd;
    for (const u of this.queued.splice(0)) onUpdate(u);
    if (this.stopped) onEnd();
  }

  /** The server is stopping: end the stream (the client reconnects elsewhere with Last-Event-ID). */
  close(): void {
    if (this.stopped) return;
    this.stop();
    this.end?.();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.watcher.remove(this);
  }
}

export type StreamRefusalCode = 'not_found' | 'realtime_unavailable';

/**
 * Streams of progress changes for the API's SSE route. Only someone who may read the progress (its
 * owner, or an admin of its organisation: row-level security decides) can subscribe; anyone else gets
 * not_found. A subscriber that gives the last version it has gets every later version, in order, each
 * with its transitions' events; with none it gets the current state first.
 */
export function createProgressStreams(deps: { db: Db; feed: ProgressFeed; logger: Logger }) {
  const watchers = new Map<string, Watcher>();
  deps.feed.onResync(() => {
    for (const w of watchers.values()) w.read();
  });
  deps.feed.onClose(() => {
    for (const w of [...watchers.values()]) for (const s of [...w.subscribers]) s.close();
  });

  return {
    async subscribe(auth: Tenant, progressId: string, lastVersion: number | undefined): Promise<Result<ProgressSubscription, StreamRefusalCode>> {
      const visible = await withTenant(deps.db, auth, (trx) => findProgressById(trx, progressId));
      if (!visible) return notFound('Progress', { progress_id: progressId });
      try {
        // Listening before the first read: a change committed after the read is announced to us.
        await deps.feed.ready();
      } catch (err) {
        deps.logger.error({ err }, 'progress feed unavailable');
        return refuse('realtime_unavailable', 'Live updates are unavailable right now; retry shortly');
      }
      let watcher = watchers.get(progressId);
      if (!watcher) {
        const created = new Watcher(progressId, deps, () => {
          if (watchers.get(progressId) === created) watchers.delete(progressId);
        });
        watchers.set(progressId, created);
        watcher = created;
      }
      const subscriber = new Subscriber(auth, lastVersion ?? -1, watcher);
      watcher.subscribers.add(subscriber);
      watcher.read();
      return ok(subscriber);
    },
    /** Open streams in this process (health and tests). */
    openStreams(): number {
      let n = 0;
      for (const w of watchers.values()) n += w.subscribers.size;
      return n;
    },
  };
}

export type ProgressStreams = ReturnType<typeof createProgressStreams>;
