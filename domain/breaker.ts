/**
 * The circuit breaker of one integration, as data. It opens when the integration is judged degraded;
 * while open, calls are not attempted: they wait (durably, in the workflow that owns them) until the next
 * probe time, and one call at a time is let through as the probe. A probe that succeeds closes the
 * breaker and everything waiting resumes; one that fails books the next probe an interval later.
 * Pure: the clock is passed in. The claim of a probe (one caller at a time) is a conditional update in
 * Postgres (db/repositories/breaker.ts); this says what a caller may do given the row it read.
 */

export type BreakerState = 'closed' | 'open';

export interface Breaker {
  state: BreakerState;
  /** Epoch ms: when the next probe may be made (open only). */
  nextProbeAt: number | null;
}

export type Admission =
  /** Closed: call as usual. */
  | { kind: 'call' }
  /** Open and a probe is due: try to claim it; whoever claims it makes the call. */
  | { kind: 'probe' }
  /** Open and the probe is not due (or taken): do not call; try again at `until`. */
  | { kind: 'wait'; until: number };

export function admission(b: Breaker, now: number): Admission {
  if (b.state === 'closed') return { kind: 'call' };
  const due = b.nextProbeAt ?? now;
  return due <= now ? { kind: 'probe' } : { kind: 'wait', until: due };
}

/** Failure type of a call the breaker held back: the workflow waits and sends it again, nothing was sent. */
export const CIRCUIT_OPEN = 'circuit_open';

/** How long a held-back call waits before asking again: until the next probe, within sane bounds. */
export function waitMs(until: number, now: number, probeIntervalMs: number): number {
  return Math.min(Math.max(until - now, 1_000), Math.max(probeIntervalMs, 1_000));
}
