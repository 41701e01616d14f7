import { z } from 'zod';
import { ANALYTICS_EVENT_TYPES, MAX_EVENTS_PER_BATCH } from '../../../domain/analytics';
import type { IncomingEvent, IngestResult, RequestContext } from '../../../services/analytics';
import { named } from '../../openapi';
import { jsonObject, timestamp, canonicalUuid } from '../shared';

const MAX_EVENT_DATA_BYTES = 4096;
const url = z.string().min(1).max(2048);

const eventType = z.enum(ANALYTICS_EVENT_TYPES, {
  error: (issue) => `unknown event type ${JSON.stringify(issue.input)}; expected one of ${ANALYTICS_EVENT_TYPES.join(', ')}`,
});

/** One event as a client sends it (seed 000's TrackEventRequest, plus the id that makes retries safe). */
export const ClientEvent = named(
  'AnalyticsEvent',
  z.strictObject({
    id: canonicalUuid().describe("The client's id for this event (a UUID it makes once): sending the event again, alone or in a retried batch, records it once"),
    tour_id: canonicalUuid(),
    progress_id: canonicalUuid().optional().describe("The caller's own progress on this tour"),
    event_type: eventType,
    step_index: z.number().int().min(0).max(1000).optional(),
    step_key: z.string().min(1).max(100).optional().describe('Step analytics count events by step key'),
    event_data: jsonObject
      .refine((d) => Buffer.byteLength(JSON.stringify(d)) <= MAX_EVENT_DATA_BYTES, `at most ${MAX_EVENT_DATA_BYTES} bytes as JSON`)
      .optional(),
    interaction_time_ms: z.number().int().min(0).max(24 * 3600 * 1000).optional(),
    load_time_ms: z.number().int().min(0).max(600_000).optional(),
    page_url: url.optional().describe("Default: the batch's context, then the request's Referer header"),
    referrer: url.optional().describe("The page's document.referrer; default: the batch's context"),
    session_id: canonicalUuid().optional().describe("Default: the batch's context"),
  }),
);

/** What a batch says about all its events; each event may override it. */
export const BatchContext = z
  .strictObject({ page_url: url.optional(), referrer: url.optional(), session_id: canonicalUuid().optional() })
  .describe('Defaults for every event of the batch');

export const events = z.array(ClientEvent).min(1).max(MAX_EVENTS_PER_BATCH).describe(`1 to ${MAX_EVENTS_PER_BATCH} events`);

/** Headers the server reads into the events' columns: the device and the sending page. Longer values are cut, not refused. */
export const DeviceHeaders = z.object({
  'user-agent': z.string().optional().transform((v) => (v ? v.slice(0, 1024) : undefined)).describe('Stored with each event'),
  referer: z.string().optional().transform((v) => (v ? v.slice(0, 2048) : undefined)).describe("The sending page: each event's page_url unless it has one"),
});

const Outcome = z.union([
  z.strictObject({
    index: z.number().int().min(0),
    id: canonicalUuid(),
    status: z.enum(['recorded', 'duplicate']).describe('recorded now, or already recorded by an earlier request (or earlier in this one)'),
    recorded_at: timestamp.nullable(),
  }),
  z.strictObject({
    index: z.number().int().min(0),
    id: canonicalUuid(),
    status: z.literal('refused'),
    error: z.strictObject({ code: z.literal('not_found'), message: z.string() }),
  }),
]);

export const IngestResponse = named(
  'AnalyticsIngestResult',
  z.strictObject({
    recorded_events: z.number().int().min(0),
    duplicate_events: z.number().int().min(0),
    failed_events: z.number().int().min(0).describe('Refused events: a tour the caller cannot see, or a progress that is not theirs'),
    timestamp,
    results: z.array(Outcome).describe('One per event, in the order sent'),
    event_id: canonicalUuid().optional().describe('For a single event (seed 000): its id'),
    recorded_at: timestamp.nullable().optional().describe('For a single event: when it was recorded (null if refused)'),
  }),
);

type ParsedEvent = z.output<typeof ClientEvent>;

export function toIncoming(e: ParsedEvent): IncomingEvent {
  return {
    clientId: e.id.toLowerCase(),
    tourId: e.tour_id.toLowerCase(),
    progressId: e.progress_id?.toLowerCase() ?? null,
    eventType: e.event_type,
    stepIndex: e.step_index ?? null,
    stepKey: e.step_key ?? null,
    eventData: e.event_data ?? {},
    interactionTimeMs: e.interaction_time_ms ?? null,
    loadTimeMs: e.load_time_ms ?? null,
    ...(e.page_url !== undefined ? { pageUrl: e.page_url } : {}),
    ...(e.referrer !== undefined ? { referrer: e.referrer } : {}),
    ...(e.session_id !== undefined ? { sessionId: e.session_id.toLowerCase() } : {}),
  };
}

export function requestContext(headers: z.output<typeof DeviceHeaders>, context: z.output<typeof BatchContext> | undefined): RequestContext {
  return {
    userAgent: headers['user-agent'] ?? null,
    refererHeader: headers.referer ?? null,
    ...(context?.page_url !== undefined ? { pageUrl: context.page_url } : {}),
    ...(context?.referrer !== undefined ? { referrer: context.referrer } : {}),
    ...(context?.session_id !== undefined ? { sessionId: context.session_id.toLowerCase() } : {}),
  };
}

export function presentIngest(result: IngestResult, single: boolean): z.input<typeof IngestResponse> {
  const first = result.results[0];
  return {
    recorded_events: result.recorded,
    duplicate_events: result.duplicates,
    failed_events: result.refused,
    timestamp: new Date().toISOString(),
    results: result.results,
    ...(single && first ? { event_id: first.id, recorded_at: first.status === 'refused' ? null : first.recorded_at } : {}),
  };
}
