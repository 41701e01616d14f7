import { z } from 'zod';
import { endpoint } from '../../endpoint';
import { BatchContext, ClientEvent, DeviceHeaders, events, IngestResponse, presentIngest, requestContext, toIncoming } from './views';

export const TrackEventsBody = z.union([
  z.strictObject({ events, context: BatchContext.optional() }),
  events,
  ClientEvent,
]);

export const trackEvents = endpoint({
  operationId: 'trackAnalyticsEvents',
  method: 'post',
  path: '/api/tours/analytics/events',
  tag: 'Analytics',
  summary: 'Record tour events: one, or a batch of up to 1,000',
  description:
    "The body is one event, an array of events, or `{events, context}`. Every event carries the client's own UUID, so a batch sent again records nothing twice. An event for a tour the caller cannot see, or a progress that is not theirs, is refused in `results` and the rest are recorded. A malformed event (an unknown `event_type`, a 1,001st event) refuses the whole request and records nothing. The server adds the person, the organisation, the time, the User-Agent and, unless given, the page (Referer).",
  access: 'member',
  headers: DeviceHeaders,
  body: TrackEventsBody,
  bodyLimit: '2mb',
  responses: { 200: { description: "Each event's outcome", json: IngestResponse } },
  errors: [],
}).handle(async ({ body, headers, auth }, { analytics }) => {
  const single = !Array.isArray(body) && !('events' in body);
  const list = Array.isArray(body) ? body : 'events' in body ? body.events : [body];
  const context = requestContext(headers, !Array.isArray(body) && 'events' in body ? body.context : undefined);
  const result = await analytics.ingest(auth, list.map(toIncoming), context);
  return { status: 200, body: presentIngest(result, single) };
});
