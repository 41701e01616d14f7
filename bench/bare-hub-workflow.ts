import type { DeliveryRetry, PlannedDelivery } from '../domain/hub';
import { runDelivery } from '../workflows/deliveries';

/**
 * The baseline for bench/hub.ts: the provider calls a tour event was planned into, sent with the same
 * `deliver` activity on the same provider queues (workflows/deliveries.ts runDelivery: same options,
 * same retry policy), one at a time per integration in order, as the tour workflow's lanes do. No tour
 * state, no update, no planning, no timers: what is left is the delivery machinery itself.
 */

export interface BareHubInput {
  deliveries: PlannedDelivery[];
  retry: DeliveryRetry;
}

/** Returns how many deliveries ran, so the benchmark can check that none went missing. */
export async function bareHubWorkflow(input: BareHubInput): Promise<number> {
  const lanes = new Map<string, PlannedDelivery[]>();
  for (const d of input.deliveries) {
    let lane = lanes.get(d.integrationId);
    if (!lane) lanes.set(d.integrationId, (lane = []));
    lane.push(d);
  }
  let delivered = 0;
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const d of lane) {
        await runDelivery(d, input.retry);
        delivered++;
      }
    }),
  );
  return delivered;
}
