import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { canonicalUuid } from '../../shared';
import { presentResync, ResyncEnvelope } from './views';

export const getResync = endpoint({
  operationId: 'getResync',
  method: 'get',
  path: '/api/integrations/resync/{id}',
  tag: 'Sync',
  summary: 'How a resync is going, per integration',
  access: 'admin',
  params: z.strictObject({ id: canonicalUuid() }),
  responses: { 200: { description: 'Its passes and their figures so far', json: ResyncEnvelope } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { sync }) => {
  const found = await sync.resyncStatus(auth, params.id);
  if (!found.ok) return refused(found.refusal);
  return { status: 200, body: { resync: presentResync(found.value) } };
});
