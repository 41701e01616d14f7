import { z } from 'zod';
import { endpoint, type Endpoint } from '../../endpoint';

export const liveness: Endpoint = endpoint({
  operationId: 'liveness',
  method: 'get',
  path: '/healthz',
  tag: 'Health',
  summary: 'The process is up (never checks a dependency)',
  access: 'public',
  responses: { 200: { description: 'Up', json: z.strictObject({ status: z.literal('ok') }) } },
  errors: [],
}).handle(async () => {
  return { status: 200, body: { status: 'ok' } };
});
