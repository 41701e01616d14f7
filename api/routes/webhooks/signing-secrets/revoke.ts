import { z } from 'zod';
import { endpoint, refused } from '../../../endpoint';
import { canonicalUuid } from '../../shared';

export const revokeSigningSecret = endpoint({
  operationId: 'revokeSigningSecret',
  method: 'delete',
  path: '/api/webhooks/signing-secrets/{secretId}',
  tag: 'Webhooks',
  summary: 'End a signing secret now (a leaked one): events signed with it are refused from now on',
  access: 'admin',
  params: z.strictObject({ secretId: canonicalUuid() }),
  responses: { 204: { description: 'Ended' } },
  errors: ['not_found'],
}).handle(async ({ params, auth }, { signingSecrets }) => {
  const done = await signingSecrets.revoke(auth, params.secretId.toLowerCase());
  if (!done.ok) return refused(done.refusal);
  return { status: 204 };
});
