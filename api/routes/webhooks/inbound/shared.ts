import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { named } from '../../../openapi';
import { canonicalUuid } from '../../shared';

/** One header's value; a repeated header is not one a sender signs, so it counts as absent. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

export const IntegrationPath = z.strictObject({ integrationId: canonicalUuid() });

export const ProviderReceiptView = named(
  'ProviderWebhookReceipt',
  z.strictObject({
    received: z.literal(true),
    event_id: z.string(),
    duplicate: z.boolean().describe('An earlier copy was already received: nothing happened twice'),
    deliveries_updated: z.number().int().min(0).describe('Deliveries whose provider status this event moved forward'),
  }),
);

export const PushReceiptView = named(
  'PushNotificationReceipt',
  z.strictObject({
    received: z.number().int().min(0).describe('Notifications in the request'),
    duplicate: z.boolean(),
    sync_requested: z.boolean().describe("The integration's sync workflow (`sync:{integrationId}`) was started or signalled"),
  }),
);
