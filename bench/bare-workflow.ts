import { condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';

/**
 * The baseline for bench/progress.ts: a workflow whose update handler does nothing and returns, so
 * a round trip measures only the Temporal client, server and worker (no API, no validator, no local
 * activity, no Postgres, no search attributes). Bundled by the benchmark onto its own task queue.
 */

export interface BareUpdateArgs {
  /** The same kind of tiny payload the full path sends; ignored. */
  action: string;
}

/** Returns how many updates this run has taken, so the benchmark can check none went missing. */
export const bareUpdate = defineUpdate<number, [BareUpdateArgs]>('bare');
/** Ends the run; the benchmark sends it when a phase is over. */
export const bareStopSignal = defineSignal('stop');

export async function bareWorkflow(): Promise<number> {
  let updates = 0;
  let stop = false;
  setHandler(bareUpdate, () => ++updates);
  setHandler(bareStopSignal, () => {
    stop = true;
  });
  // Keeps the run open (and cached on the worker) until told to stop.
  await condition(() => stop);
  return updates;
}
