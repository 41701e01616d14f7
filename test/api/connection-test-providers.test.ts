import request from 'supertest';
import { createOrg } from '../support/fixtures';
import { deploymentEnv, startFakeProviders, type FakeProviderId, type FakeProviders } from '../support/fake-providers';
import { startStack, tokenFor, type Stack } from '../support/stack';

/**
 * `POST /api/integrations/:id/test` for the providers of issue 14, through the real API against their
 * loopback fakes: this deployment sends each provider to its fake (CONNECTOR_BASE_URLS) and allows the
 * loopback network (OUTBOUND_ALLOWED_NETWORKS), as deploymentEnv sets them. Each provider's ping reaches
 * its fake and passes with the integration's own credentials; with credentials the vendor refuses, the
 * API answers the classified error the admin sees, and the vendor saw exactly that one refused ping.
 */

const PROVIDERS: FakeProviderId[] = ['pocketsuite', 'apple-calendar', 'square', 'paypal', 'kit', 'activecampaign', 'vonage', 'bird'];

/** Credentials (over the fake's own) that the vendor refuses, and the error the test answers with. */
const REFUSED: Record<string, { credentials: Record<string, string>; error: { code: string; status: number; message: string } }> = {
  // A hook that is no longer live: Zapier answers 404.
  pocketsuite: { credentials: { hookUrl: 'https://hooks.zapier.com/hooks/catch/7654321/turnedoff/' }, error: { code: 'not_found', status: 404, message: 'pocketsuite answered 404: Hook not found.' } },
  'apple-calendar': { credentials: { appSpecificPassword: 'wxyz-wxyz-wxyz-wxyz' }, error: { code: 'unauthorized', status: 401, message: 'apple-calendar answered 401' } },
  square: { credentials: { accessToken: 'EAAAnotthetokennotthetoken0123' }, error: { code: 'unauthorized', status: 401, message: 'square answered 401: UNAUTHORIZED: This request could not be authorized.' } },
  paypal: { credentials: { clientSecret: 'not-the-client-secret' }, error: { code: 'unauthorized', status: 401, message: 'paypal answered 401: Client Authentication failed' } },
  kit: { credentials: { apiKey: 'kit_revoked_key_0123' }, error: { code: 'unauthorized', status: 401, message: 'kit answered 401: The access token is invalid' } },
  activecampaign: { credentials: { apiToken: 'revoked-token-0123456789abcdef' }, error: { code: 'forbidden', status: 403, message: 'activecampaign answered 403: Forbidden' } },
  vonage: { credentials: { apiSecret: 'not-the-api-secret' }, error: { code: 'unauthorized', status: 401, message: 'vonage answered 401' } },
  bird: { credentials: { accessKey: 'revoked-access-key-0123456789' }, error: { code: 'unauthorized', status: 401, message: 'bird answered 401: The access key is not valid' } },
};

let fakes: FakeProviders;
let stack: Stack;

beforeAll(async () => {
  fakes = await startFakeProviders({ only: PROVIDERS });
  stack = await startStack({ worker: false, config: deploymentEnv(fakes.list) });
});

afterAll(async () => {
  await stack?.close();
  await fakes?.close();
});

async function connect(provider: FakeProviderId, credentials: Record<string, unknown>): Promise<{ token: string; id: string }> {
  const org = await createOrg(stack.ownerDb);
  const token = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
  const fake = fakes.get(provider);
  const res = await request(stack.app)
    .post('/api/integrations')
    .set('Authorization', `Bearer ${token}`)
    .send({ provider, credentials, settings: fake.integration.settings });
  expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
  return { token, id: res.body.integration.id };
}

const test = (token: string, id: string) => request(stack.app).post(`/api/integrations/${id}/test`).set('Authorization', `Bearer ${token}`);

describe('POST /api/integrations/:id/test against each new provider’s fake', () => {
  it.each(PROVIDERS)('%s: passes with the integration’s credentials', async (provider) => {
    const fake = fakes.get(provider);
    const { token, id } = await connect(provider, fake.integration.credentials);
    fake.clearCalls();
    const res = await test(token, id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ integration_id: id, ok: true, latency_ms: expect.any(Number) });
    // The ping reached the vendor and wrote nothing there.
    expect(fake.calls().length).toBeGreaterThan(0);
    expect(fake.calls().filter((c) => c.kind === 'write' && c.outcome !== 'read')).toEqual([]);
  });

  it.each(PROVIDERS)('%s: shows the vendor’s refusal of wrong credentials as a classified, non-retryable error', async (provider) => {
    const fake = fakes.get(provider);
    const refused = REFUSED[provider]!;
    const { token, id } = await connect(provider, { ...fake.integration.credentials, ...refused.credentials });
    fake.clearCalls();
    const res = await test(token, id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ integration_id: id, ok: false, latency_ms: expect.any(Number), error: { ...refused.error, retryable: false } });
    expect(fake.calls().map((c) => c.status)).toEqual([refused.error.status]);
  });

  it('reports a vendor that is down (503) as a retryable failure', async () => {
    const fake = fakes.get('kit');
    const { token, id } = await connect('kit', fake.integration.credentials);
    fake.down();
    try {
      const res = await test(token, id);
      expect(res.body).toMatchObject({ ok: false, error: { code: 'provider_unavailable', retryable: true, status: 503 } });
    } finally {
      fake.up();
    }
  });
});
