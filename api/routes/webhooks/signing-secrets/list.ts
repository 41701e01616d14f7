import { z } from 'zod';
import { endpoint } from '../../../endpoint';
import { presentSigningSecret, SigningSecretView } from '../views';

export const listSigningSecrets = endpoint({
  operationId: 'listSigningSecrets',
  method: 'get',
  path: '/api/webhooks/signing-secrets',
  tag: 'Webhooks',
  summary: "The organisation's tour-event signing secrets, newest first (never their values)",
  access: 'admin',
  responses: { 200: { description: 'The secrets', json: z.strictObject({ signing_secrets: z.array(SigningSecretView) }) } },
  errors: [],
}).handle(async ({ auth }, { signingSecrets }) => {
  const rows = await signingSecrets.list(auth);
  return { status: 200, body: { signing_secrets: rows.map(presentSigningSecret) } };
});
