import type { CalendarEventInput, OAuthTokens } from '../../../connectors/contracts';
import type { OAuthStore } from '../../../connectors/oauth';

/** The follow-up consultation a completed tour books: 14:00 local, one hour. */
export const consultation: CalendarEventInput = {
  summary: 'Follow-up consultation: Ada & Grace',
  description: 'Booked automatically when the venue tour was completed.',
  start: '2026-11-30T14:00:00',
  end: '2026-11-30T15:00:00',
  timeZone: 'America/New_York',
  attendees: [{ email: 'ada@example.com', name: 'Ada Lovelace' }, { email: 'grace@example.com' }],
  location: 'Rosewood Barn, 12 Mill Lane',
};

/** OAuth tokens in memory; withLock runs one caller at a time (a promise chain), like the row lock in Postgres. */
export function memoryOAuthStore(initial: OAuthTokens): OAuthStore & { tokens: OAuthTokens; locks: number } {
  let tail: Promise<unknown> = Promise.resolve();
  const store = {
    tokens: initial,
    locks: 0,
    async load() {
      return store.tokens;
    },
    withLock(fn: (current: OAuthTokens) => Promise<OAuthTokens>): Promise<OAuthTokens> {
      const run = tail.then(async () => {
        store.locks++;
        const next = await fn(store.tokens);
        store.tokens = next;
        return next;
      });
      tail = run.catch(() => undefined);
      return run;
    },
  };
  return store;
}

/** Runs `fn` and returns what it threw (failing if it did not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
