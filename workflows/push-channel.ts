import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { PushChannelActivities } from '../activities/push-channels';
import { providerTaskQueue } from './task-queues';
import type { PushChannelInput } from './webhook-messages';

/** Renewals per run before continue-as-new (a weekly Google channel: years of history per run). */
const RENEWALS_PER_RUN = 100;

/**
 * Keeps one calendar integration's change-notification channel alive: makes it if there is none, and
 * renews it `renewBeforeMs` before it expires (a Google watch channel is replaced by a new one, a Graph
 * subscription extended), for as long as the integration is active; then stops it and ends. The calls
 * run on the provider's queue, under its rate limit, through its connector.
 */
export async function pushChannel(input: PushChannelInput): Promise<void> {
  const { ensurePushChannel } = proxyActivities<PushChannelActivities>({
    taskQueue: providerTaskQueue(input.provider),
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
  });
  for (let renewals = 0; renewals < RENEWALS_PER_RUN; renewals++) {
    const channel = await ensurePushChannel({ integrationId: input.integrationId, renewBeforeMs: input.renewBeforeMs });
    if (channel.kind === 'stopped') return;
    await sleep(Math.max(1_000, channel.renewAt - Date.now()));
  }
  await continueAsNew<typeof pushChannel>(input);
}
