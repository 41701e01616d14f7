import { z } from 'zod';
import { endpoint } from '../../../endpoint';
import { named } from '../../../openapi';
import { gracePeriodHours, presentSigningSecret, SigningSecretView } from '../views';

export const rotateSigningSecret = endpoint({
  operationId: 'rotateSigningSecret',
  method: 'post',
  path: '/api/webhooks/signing-secrets',
  tag: 'Webhooks',
  summary: 'Make a new tour-event signing secret (the first, or a rotation)',
  description:
    'The value is in this answer only. Secrets it replaces keep working for `grace_period_hours` (default `WEBHOOK_SECRET_GRACE`), so the backend can switch without refused events.',
  access: 'admin',
  body: z.strictObject({ grace_period_hours: gracePeriodHours }),
  responses: {
    201: {
      description: 'Made',
      json: named('NewSigningSecret', z.strictObject({ signing_secret: SigningSecretView, secret: z.string().describe('`wss_…`: the HMAC key of `x-wedsync-signature`. Shown this once') })),
    },
  },
  errors: [],
}).handle(async ({ body, auth }, { signingSecrets }) => {
  const made = await signingSecrets.rotate(auth, body.grace_period_hours !== undefined ? body.grace_period_hours * 3600_000 : undefined);
  return { status: 201, body: { signing_secret: presentSigningSecret(made.secret), secret: made.value } };
});
