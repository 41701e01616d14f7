import { z } from 'zod';
import { endpoint } from '../../endpoint';
import { timestamp } from '../shared';

export const mintBeaconToken = endpoint({
  operationId: 'mintAnalyticsBeaconToken',
  method: 'post',
  path: '/api/tours/analytics/beacon-token',
  tag: 'Analytics',
  summary: 'A short-lived token for sendBeacon batches',
  description:
    'Ask for one when the page loads (and again before it expires); put it in the body of `POST /api/tours/analytics/batch`. It records events as the caller and does nothing else. Lifetime: `ANALYTICS_BEACON_TOKEN_TTL` (1 hour by default).',
  access: 'member',
  responses: {
    200: {
      description: 'The token',
      json: z.strictObject({ beacon_token: z.string(), expires_at: timestamp }),
    },
  },
  errors: [],
}).handle(async ({ auth }, { analytics }) => {
  const { token, expiresAt } = await analytics.mintBeaconToken(auth);
  return { status: 200, body: { beacon_token: token, expires_at: expiresAt.toISOString() } };
});
