import { z } from 'zod';
import { OUTBOUND_EVENT_TYPES } from '../../../domain/webhooks';
import { endpoint } from '../../endpoint';

export const listEventTypes = endpoint({
  operationId: 'listWebhookEventTypes',
  method: 'get',
  path: '/api/webhooks/event-types',
  tag: 'Webhooks',
  summary: 'The event types a subscription can filter on',
  access: 'admin',
  responses: { 200: { description: 'The types', json: z.strictObject({ event_types: z.array(z.string()) }) } },
  errors: [],
}).handle(async () => ({ status: 200, body: { event_types: [...OUTBOUND_EVENT_TYPES] } }));
