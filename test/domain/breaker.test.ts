import { admission, waitMs } from '../../domain/breaker';

describe('the circuit breaker', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');

  it('lets every call through while closed', () => {
    expect(admission({ state: 'closed', nextProbeAt: null }, now)).toEqual({ kind: 'call' });
  });

  it('while open, holds calls back until the next probe time, then offers the probe', () => {
    expect(admission({ state: 'open', nextProbeAt: now + 30_000 }, now)).toEqual({ kind: 'wait', until: now + 30_000 });
    expect(admission({ state: 'open', nextProbeAt: now }, now)).toEqual({ kind: 'probe' });
    expect(admission({ state: 'open', nextProbeAt: now - 1 }, now)).toEqual({ kind: 'probe' });
  });

  it('a held-back call waits until the probe time, at least a second and at most one probe interval', () => {
    expect(waitMs(now + 30_000, now, 60_000)).toBe(30_000);
    expect(waitMs(now + 10, now, 60_000)).toBe(1_000);
    expect(waitMs(now + 10 * 60_000, now, 60_000)).toBe(60_000);
  });
});
