import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';
import { BatchContext, DeviceHeaders, events, IngestResponse, presentIngest, requestContext, toIncoming } from './views';

export const BeaconBody = z.strictObject({
  beacon_token: z.string().min(1).max(2048).describe('From POST /api/tours/analytics/beacon-token'),
  events,
  context: BatchContext.optional(),
});

export const beaconBatch = endpoint({
  operationId: 'trackAnalyticsBeacon',
  method: 'post',
  path: '/api/tours/analytics/batch',
  tag: 'Analytics',
  summary: "A page's last events, sent with navigator.sendBeacon as it unloads",
  description:
    "`navigator.sendBeacon` cannot set an Authorization header and sends a string as `text/plain`, so this route takes the JSON as `text/plain` (or `application/json`) and the person from `beacon_token` in the body, a short-lived token that can only record this person's events. Otherwise exactly as `POST /api/tours/analytics/events`.",
  access: 'public',
  headers: DeviceHeaders,
  body: BeaconBody,
  bodyMediaTypes: ['text/plain', 'application/json'],
  bodyLimit: '2mb',
  responses: { 200: { description: "Each event's outcome (a browser ignores it; a test need not)", json: IngestResponse } },
  errors: ['invalid_beacon_token'],
}).handle(async ({ body, headers }, { analytics }) => {
  const result = await analytics.ingestBeacon(body.beacon_token, body.events.map(toIncoming), requestContext(headers, body.context));
  if (!result.ok) return refused(result.refusal);
  return { status: 200, body: presentIngest(result.value, false) };
});
