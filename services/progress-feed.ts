import createPostgresSubscriber, { type Subscriber } from 'pg-listen';
import type { Logger } from 'pino';

/** The channel the progress trigger announces new versions on (migrations/20261128120200_create_progress_notifications.ts). */
export const PROGRESS_CHANNEL = 'tour_progress';

/**
 * New versions of progress rows, as any API process hears them: one LISTEN connection per process,
 * fanned out in memory to whoever watches a progress id.
 */
export interface ProgressFeed {
  /** Resolves once this process is listening, so a read made afterwards cannot miss a later change. */
  ready(): Promise<void>;
  /** Calls `fn` with each announced version of this progress; returns the unsubscribe. */
  watch(progressId: string, fn: (version: number) => void): () => void;
  /**
   * Calls `fn` after the listening connection was lost and made again: announcements in between are
   * lost, so every watcher should read its progress again.
   */
  onResync(fn: () => void): () => void;
  /** Stops listening; `onClose` callbacks run so open streams can end. */
  close(): Promise<void>;
  onClose(fn: () => void): () => void;
}

/**
 * The feed over pg-listen: it keeps the connection (reconnecting with backoff, re-issuing LISTEN),
 * and checks it every 30 s with a trivial query, since a connection that died silently would
 * otherwise just stop announcing. Connects on first use.
 */
export function createProgressFeed(opts: { connectionString: string; logger: Logger; applicationName?: string }): ProgressFeed {
  const watchers = new Map<string, Set<(version: number) => void>>();
  const resyncs = new Set<() => void>();
  const closes = new Set<() => void>();
  let subscriber: Subscriber | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;

  const start = async () => {
    const s = createPostgresSubscriber(
      { connectionString: opts.connectionString, application_name: opts.applicationName ?? 'tourhub-progress-feed' },
      // retryTimeout 0: never give up (a stream would otherwise stay open and silent forever).
      { retryLimit: Infinity, retryTimeout: 0, retryInterval: (attempt) => Math.min(250 * 2 ** attempt, 10_000), paranoidChecking: 30_000 },
    );
    subscriber = s;
    let first = true;
    s.events.on('connected', () => {
      if (first) {
        first = false;
        return;
      }
      opts.logger.info('progress feed listening again; streams re-read their progress');
      for (const fn of resyncs) fn();
    });
    s.events.on('reconnect', (attempt) => opts.logger.warn({ attempt }, 'progress feed lost its connection; reconnecting'));
    s.events.on('error', (err) => opts.logger.error({ err }, 'progress feed error'));
    s.notifications.on(PROGRESS_CHANNEL, (payload: { p?: unknown; v?: unknown } | undefined) => {
      if (!payload || typeof payload.p !== 'string' || typeof payload.v !== 'number') return;
      for (const fn of watchers.get(payload.p) ?? []) fn(payload.v);
    });
    await s.connect();
    await s.listenTo(PROGRESS_CHANNEL);
  };

  return {
    ready() {
      if (closed) return Promise.reject(new Error('the progress feed is closed'));
      connecting ??= start().catch((err) => {
        connecting = undefined;
        const s = subscriber;
        subscriber = undefined;
        void s?.close().catch(() => undefined);
        throw err;
      });
      return connecting;
    },
    watch(progressId, fn) {
      let set = watchers.get(progressId);
      if (!set) watchers.set(progressId, (set = new Set()));
      set.add(fn);
      return () => {
        set.delete(fn);
        if (set.size === 0 && watchers.get(progressId) === set) watchers.delete(progressId);
      };
    },
    onResync(fn) {
      resyncs.add(fn);
      return () => resyncs.delete(fn);
    },
    onClose(fn) {
      closes.add(fn);
      return () => closes.delete(fn);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const fn of closes) fn();
      await connecting?.catch(() => undefined);
      await subscriber?.close().catch(() => undefined);
    },
  };
}
