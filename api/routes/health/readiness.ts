import { z } from 'zod';
import { endpoint, refused } from '../../endpoint';

export const readiness = endpoint({
  operationId: 'readiness',
  method: 'get',
  path: '/readyz',
  tag: 'Health',
  summary: 'Postgres and Temporal answer (each within two seconds)',
  access: 'public',
  responses: {
    200: {
      description: 'Ready',
      json: z.strictObject({ status: z.literal('ready'), checks: z.strictObject({ postgres: z.literal('ok'), temporal: z.literal('ok') }) }),
    },
  },
  errors: ['not_ready'],
}).handle(async (_input, ctx) => {
  const ready = await ctx.readiness();
  if (!ready.ok) return refused(ready.refusal);
  return { status: 200, body: { status: 'ready', checks: ready.value } };
});
