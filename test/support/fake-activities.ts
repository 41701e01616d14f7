import type { Activities, LoadTourResult, PersistTransitionInput } from '../../activities';
import type { TourShape, TourState } from '../../domain/tour-state';

/** In-memory stand-ins for the worker's activities, with switches to make persistence fail. */
export function fakeActivities(shape: TourShape | null, opts: { stored?: TourState } = {}) {
  const writes: PersistTransitionInput[] = [];
  let stored: TourState | undefined = opts.stored;
  let failuresLeft = 0;
  const activities: Activities = {
    async loadTour(): Promise<LoadTourResult> {
      return { shape, progress: stored ?? null };
    },
    async persistTransition(input) {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('database is down');
      }
      writes.push(input);
      const written = !stored || stored.version < input.state.version;
      if (written) stored = input.state;
      return { written };
    },
  };
  return {
    activities,
    writes,
    stored: () => stored,
    failNext(n: number) {
      failuresLeft = n;
    },
  };
}
