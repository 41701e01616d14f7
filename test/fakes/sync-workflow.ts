// A stand-in for the sync engine's workflow, registered under its type name so the receivers' side of
// the contract (services/sync-requests.ts: id `sync:{integrationId}`, type `integrationSync`, signal
// `syncRequested`) is tested without it. It records what it was asked.
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';

export const syncRequested = defineSignal<[{ reason: string; requestedAt: string }]>('syncRequested');
export const requestsQuery = defineQuery<{ input: { integrationId: string }; requests: { reason: string; requestedAt: string }[] }>('requests');

export async function integrationSync(input: { integrationId: string }): Promise<void> {
  const requests: { reason: string; requestedAt: string }[] = [];
  setHandler(syncRequested, (r) => void requests.push(r));
  setHandler(requestsQuery, () => ({ input, requests }));
  await condition(() => false, '1 hour');
}
