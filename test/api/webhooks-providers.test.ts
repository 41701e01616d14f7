import crypto from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import Stripe from 'stripe';
import request from 'supertest';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { insertIntegration } from '../../db/repositories/integrations';
import { createPayloadCodec, ENCRYPTED_ENCODING } from '../../services/payload-codec';
import { tokenHash } from '../../services/webhook-signatures';
import { SYNC_WORKFLOW_TYPE, syncRequestedSignal, syncWorkflowId } from '../../workflows/integration-sync/messages';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { insertTestDelivery } from '../support/hub-rows';
import { startStack, testSecretBox, type Stack } from '../support/stack';

const box = testSecretBox();
let stack: Stack;

beforeAll(async () => {
  // No worker: the sync engine's runs are started and signalled (the receivers' side of the contract,
  // read back from their histories) but never run, so no pass reads a provider from this suite.
  stack = await startStack({ worker: false });
}, 120_000);

afterAll(async () => {
  await stack.close();
});

function expectError(res: request.Response, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
}

const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-auth-token-for-tests';
const STRIPE_SECRET = 'whsec_testendpointsecret';

async function integration(org: OrgFixture, provider: string, type: string, credentials: Record<string, unknown>) {
  const id = crypto.randomUUID();
  await insertIntegration(stack.ownerDb, box, { id, organizationId: org.orgId, type, provider, settings: { provider: {}, field_mapping: {}, enabled_events: [] }, credentials, isActive: true });
  return id;
}

async function deliveryWithReference(org: OrgFixture, integrationId: string, reference: string) {
  const d = await insertTestDelivery(stack.ownerDb, box, { orgId: org.orgId, integrationId, status: 'succeeded' });
  await stack.ownerDb('integration_deliveries').where({ id: d.id }).update({ provider_reference: reference });
  return d.id;
}

const deliveryRow = (id: string) => stack.ownerDb('integration_deliveries').where({ id }).first();
const storedFor = async (integrationId: string) => stack.ownerDb('webhook_events').where({ integration_id: integrationId }).orderBy('created_at');

/**
 * What `sync:{integrationId}` was asked, from its history: the type and input it was started with (by
 * signal-with-start) and each `syncRequested` signal's request. Nothing when no run was started.
 */
async function syncRequests(integrationId: string) {
  const handle = stack.client.workflow.getHandle(syncWorkflowId(integrationId));
  let history;
  try {
    history = await handle.fetchHistory();
  } catch {
    return [];
  }
  // Sealed by the API's client, as every payload is: opened with the same keyring, as the Web UI's codec would.
  const codec = createPayloadCodec(box);
  const decode = async (payloads: { payloads?: Payload[] | null } | null | undefined) =>
    Promise.all(
      (payloads?.payloads ?? []).map(async (p) => {
        expect(Buffer.from(p.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
        return defaultPayloadConverter.fromPayload((await codec.decode([p]))[0]!);
      }),
    );
  type Asked = { started: string | null | undefined; input: unknown[] } | { signal: string | null | undefined; args: unknown[] };
  const asked: Asked[] = [];
  for (const e of history.events ?? []) {
    const started = e.workflowExecutionStartedEventAttributes;
    if (started) asked.push({ started: started.workflowType?.name, input: await decode(started.input as never) });
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal) asked.push({ signal: signal.signalName, args: await decode(signal.input as never) });
  }
  return asked;
}

describe('POST /api/webhooks/stripe/{integrationId}', () => {
  const invoicePaid = (customer: string) =>
    JSON.stringify({
      id: `evt_${crypto.randomUUID().replace(/-/g, '')}`,
      object: 'event',
      type: 'invoice.paid',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: { id: 'in_1', object: 'invoice', customer, amount_paid: 4900, currency: 'usd', customer_email: 'ava@example.com' } },
    });
  const post = (id: string, payload: string, header?: string) => {
    const req = request(stack.app).post(`/api/webhooks/stripe/${id}`).set('Content-Type', 'application/json');
    if (header) req.set('Stripe-Signature', header);
    return req.send(payload);
  };

  it('accepts an event signed as Stripe signs it and records the payment on the delivery, once', async () => {
    const org = await createOrg(stack.ownerDb);
    const id = await integration(org, 'stripe', 'payment', { secretKey: 'sk_test_abc', webhookSecret: STRIPE_SECRET });
    const deliveryId = await deliveryWithReference(org, id, 'cus_123');
    const payload = invoicePaid('cus_123');
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
    const res = await post(id, payload, header);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, event_id: JSON.parse(payload).id, duplicate: false, deliveries_updated: 1 });
    expect(await deliveryRow(deliveryId)).toMatchObject({ provider_status: 'payment_succeeded', provider_detail: { event_type: 'invoice.paid', amount: 4900, currency: 'usd' } });
    const again = await post(id, payload, Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }));
    expect(again.body).toMatchObject({ duplicate: true, deliveries_updated: 0 });
    const stored = await storedFor(id);
    expect(stored).toHaveLength(1);
    // Only ids and figures are kept, not the customer's details.
    expect(JSON.stringify(stored[0].payload)).not.toContain('ava@example.com');
  });

  it('refuses a wrong, old or missing signature with 401 and stores nothing', async () => {
    const org = await createOrg(stack.ownerDb);
    const id = await integration(org, 'stripe', 'payment', { secretKey: 'sk_test_abc', webhookSecret: STRIPE_SECRET });
    const payload = invoicePaid('cus_9');
    expectError(await post(id, payload, Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_other' })), 401, 'invalid_signature');
    const old = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET, timestamp: Math.floor(Date.now() / 1000) - 600 });
    const refused = await post(id, payload, old);
    expectError(refused, 401, 'invalid_signature');
    expect(refused.body.error.details).toEqual({ reason: 'timestamp_out_of_tolerance' });
    const signed = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
    expectError(await post(id, payload.replace('4900', '1'), signed), 401, 'invalid_signature');
    expectError(await post(id, payload), 401, 'invalid_signature');
    expect(await storedFor(id)).toEqual([]);
  });

  it('answers 404 for an unknown id, another provider\'s integration, and one without an endpoint secret is 401', async () => {
    const org = await createOrg(stack.ownerDb);
    const twilioId = await integration(org, 'twilio', 'sms', { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const bare = await integration(org, 'stripe', 'payment', { secretKey: 'sk_test_abc' });
    const payload = invoicePaid('cus_1');
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET });
    expectError(await post(crypto.randomUUID(), payload, header), 404, 'not_found');
    expectError(await post(twilioId, payload, header), 404, 'not_found');
    expectError(await post('not-a-uuid', payload, header), 400, 'validation_error');
    const none = await post(bare, payload, header);
    expectError(none, 401, 'invalid_signature');
    expect(none.body.error.details).toEqual({ reason: 'no_secret' });
  });
});

describe('POST /api/webhooks/twilio/{integrationId}', () => {
  const post = (id: string, params: Record<string, string>, signature?: string) => {
    const req = request(stack.app).post(`/api/webhooks/twilio/${id}`).type('form');
    if (signature) req.set('X-Twilio-Signature', signature);
    return req.send(new URLSearchParams(params).toString());
  };
  const sign = (id: string, params: Record<string, string>, token = AUTH_TOKEN) => getExpectedTwilioSignature(token, `http://tourhub.test/api/webhooks/twilio/${id}`, params);

  it('accepts a status callback signed as Twilio signs it; the SMS delivery\'s status only moves forward', async () => {
    const org = await createOrg(stack.ownerDb);
    const id = await integration(org, 'twilio', 'sms', { accountSid: ACCOUNT_SID, apiKeySid: `SK${'b2'.repeat(16)}`, apiKeySecret: 's', authToken: AUTH_TOKEN });
    const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
    const deliveryId = await deliveryWithReference(org, id, sid);
    const callback = (status: string) => ({ AccountSid: ACCOUNT_SID, MessageSid: sid, MessageStatus: status, To: '+15555550100', ApiVersion: '2010-04-01' });
    const delivered = await post(id, callback('delivered'), sign(id, callback('delivered')));
    expect(delivered.status).toBe(200);
    expect(delivered.body).toMatchObject({ event_id: `${sid}:delivered`, duplicate: false, deliveries_updated: 1 });
    expect(await deliveryRow(deliveryId)).toMatchObject({ provider_status: 'delivered' });
    // Twilio may post `sent` after `delivered`: the lesser, later news does not win.
    const late = await post(id, callback('sent'), sign(id, callback('sent')));
    expect(late.body).toMatchObject({ deliveries_updated: 0 });
    expect(await deliveryRow(deliveryId)).toMatchObject({ provider_status: 'delivered' });
    expect((await post(id, callback('delivered'), sign(id, callback('delivered')))).body).toMatchObject({ duplicate: true });
  });

  it('refuses a signature over other parameters, another URL or token with 401, storing nothing', async () => {
    const org = await createOrg(stack.ownerDb);
    const id = await integration(org, 'twilio', 'sms', { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const params = { AccountSid: ACCOUNT_SID, MessageSid: 'SM1', MessageStatus: 'failed', ErrorCode: '30003' };
    expectError(await post(id, { ...params, MessageStatus: 'delivered' }, sign(id, params)), 401, 'invalid_signature');
    expectError(await post(id, params, getExpectedTwilioSignature(AUTH_TOKEN, `https://elsewhere.example/api/webhooks/twilio/${id}`, params)), 401, 'invalid_signature');
    expectError(await post(id, params, sign(id, params, 'another-token')), 401, 'invalid_signature');
    expectError(await post(id, params), 401, 'invalid_signature');
    expect(await storedFor(id)).toEqual([]);
  });
});

describe('calendar change notifications', () => {
  async function googleChannel(org: OrgFixture) {
    const id = await integration(org, 'google-calendar', 'calendar', { accessToken: 'ya29.x', refreshToken: 'r' });
    const token = crypto.randomBytes(24).toString('base64url');
    const channelId = crypto.randomUUID();
    await stack.ownerDb('push_channels').insert({
      organization_id: org.orgId,
      integration_id: id,
      provider: 'google-calendar',
      channel_id: channelId,
      resource_id: 'res-1',
      resource: 'https://www.googleapis.com/calendar/v3/calendars/primary/events',
      token_hash: tokenHash(token),
      expires_at: new Date(Date.now() + 86_400_000),
    });
    return { id, token, channelId };
  }
  const google = (id: string, headers: Record<string, string>) => request(stack.app).post(`/api/webhooks/google-calendar/${id}`).set(headers).send();

  it('records a Google push notification with its channel\'s token and asks the sync engine to reconcile, once per message', async () => {
    const org = await createOrg(stack.ownerDb);
    const { id, token, channelId } = await googleChannel(org);
    const headers = (n: number, state: string) => ({ 'X-Goog-Channel-ID': channelId, 'X-Goog-Channel-Token': token, 'X-Goog-Resource-State': state, 'X-Goog-Resource-ID': 'res-1', 'X-Goog-Message-Number': String(n) });
    const hello = await google(id, headers(1, 'sync'));
    expect(hello.body).toEqual({ received: 1, duplicate: false, sync_requested: false });
    const changed = await google(id, headers(2, 'exists'));
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ received: 1, duplicate: false, sync_requested: true });
    expect((await google(id, headers(2, 'exists'))).body).toMatchObject({ duplicate: true, sync_requested: false });
    const stored = await storedFor(id);
    expect(stored.map((e) => [e.source, e.event_type, e.resource])).toEqual([
      ['google_calendar', 'calendar.sync', 'https://www.googleapis.com/calendar/v3/calendars/primary/events'],
      ['google_calendar', 'calendar.exists', 'https://www.googleapis.com/calendar/v3/calendars/primary/events'],
    ]);
    expect(await syncRequests(id)).toEqual([
      { started: SYNC_WORKFLOW_TYPE, input: [{ integrationId: id }] },
      { signal: syncRequestedSignal.name, args: [{ reason: 'google_calendar_push' }] },
    ]);
  });

  it('refuses a wrong token or an unknown channel with 401 and stores nothing; another organisation\'s id is 404', async () => {
    const org = await createOrg(stack.ownerDb);
    const { id, channelId } = await googleChannel(org);
    const base = { 'X-Goog-Channel-ID': channelId, 'X-Goog-Resource-State': 'exists', 'X-Goog-Message-Number': '5' };
    expectError(await google(id, { ...base, 'X-Goog-Channel-Token': 'guess' }), 401, 'invalid_signature');
    expectError(await google(id, base), 401, 'invalid_signature');
    expectError(await google(id, { ...base, 'X-Goog-Channel-ID': crypto.randomUUID(), 'X-Goog-Channel-Token': 'x' }), 401, 'invalid_signature');
    // Another organisation's channel, presented at this integration's route: not this integration's.
    const other = await googleChannel(await createOrg(stack.ownerDb));
    expectError(await google(id, { ...base, 'X-Goog-Channel-ID': other.channelId, 'X-Goog-Channel-Token': other.token }), 401, 'invalid_signature');
    expectError(await google(crypto.randomUUID(), { ...base, 'X-Goog-Channel-Token': 'x' }), 404, 'not_found');
    expect(await storedFor(id)).toEqual([]);
    expect(await syncRequests(id)).toEqual([]);
  });

  describe('Microsoft Graph', () => {
    async function graphSubscription(org: OrgFixture) {
      const id = await integration(org, 'outlook-calendar', 'calendar', { accessToken: 'eyJ.x', refreshToken: 'r' });
      const clientState = crypto.randomBytes(24).toString('base64url');
      const subscriptionId = crypto.randomUUID();
      await stack.ownerDb('push_channels').insert({
        organization_id: org.orgId,
        integration_id: id,
        provider: 'outlook-calendar',
        channel_id: subscriptionId,
        resource: 'me/events',
        token_hash: tokenHash(clientState),
        expires_at: new Date(Date.now() + 86_400_000),
      });
      return { id, clientState, subscriptionId };
    }
    const notification = (subscriptionId: string, clientState: string, eventId = 'AAMk1') => ({
      subscriptionId,
      clientState,
      changeType: 'updated',
      resource: `Users/u/Events/${eventId}`,
      subscriptionExpirationDateTime: '2026-12-01T00:00:00Z',
      tenantId: 't',
      resourceData: { '@odata.type': '#Microsoft.Graph.Event', id: eventId },
    });
    const graph = (id: string, body: unknown) => request(stack.app).post(`/api/webhooks/microsoft-graph/${id}`).set('Content-Type', 'application/json').send(JSON.stringify(body));

    it('echoes the validation token as text/plain', async () => {
      const org = await createOrg(stack.ownerDb);
      const { id } = await graphSubscription(org);
      const res = await request(stack.app).post(`/api/webhooks/microsoft-graph/${id}?validationToken=${encodeURIComponent('Validation: Testing client application reachability')}`).set('Content-Type', 'text/plain').send('');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('Validation: Testing client application reachability');
      expectError(await request(stack.app).post(`/api/webhooks/microsoft-graph/${crypto.randomUUID()}?validationToken=x`).send(''), 404, 'not_found');
    });

    it('records notifications whose clientState matches and asks for a sync; a mismatch refuses the request unrecorded', async () => {
      const org = await createOrg(stack.ownerDb);
      const { id, clientState, subscriptionId } = await graphSubscription(org);
      const ok = await graph(id, { value: [notification(subscriptionId, clientState, 'A'), notification(subscriptionId, clientState, 'B')] });
      expect(ok.status).toBe(202);
      expect(ok.body).toEqual({ received: 2, duplicate: false, sync_requested: true });
      const stored = await storedFor(id);
      expect(stored.map((e) => e.resource).sort()).toEqual(['Users/u/Events/A', 'Users/u/Events/B']);
      // The clientState is our secret: it is checked, never kept.
      expect(JSON.stringify(stored)).not.toContain(clientState);
      expect((await graph(id, { value: [notification(subscriptionId, clientState, 'A')] })).body).toMatchObject({ duplicate: true });
      expect(await syncRequests(id)).toEqual([
        { started: SYNC_WORKFLOW_TYPE, input: [{ integrationId: id }] },
        { signal: syncRequestedSignal.name, args: [{ reason: 'microsoft_graph_notification' }] },
      ]);

      expectError(await graph(id, { value: [notification(subscriptionId, clientState, 'C'), notification(subscriptionId, 'forged', 'D')] }), 401, 'invalid_signature');
      expectError(await graph(id, { value: [notification(crypto.randomUUID(), clientState, 'E')] }), 401, 'invalid_signature');
      expectError(await graph(id, { nothing: true }), 401, 'invalid_signature');
      expect(await storedFor(id)).toHaveLength(2);
    });
  });
});
