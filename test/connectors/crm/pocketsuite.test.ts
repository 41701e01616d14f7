import { useNock } from '../../support/nock';
import nock from 'nock';
import { pocketsuite } from '../../../connectors/crm/pocketsuite';
import { verifySignature } from '../../../connectors/crm/catch-hook/signature';
import { context, memoryGuard } from '../../support/connectors';
import { ERROR_CASES, expectClassified } from '../error-table';

// PocketSuite has no public API: a signed envelope to the planner's Zapier catch hook (same protocol as HoneyBook).
const HOOK = 'https://hooks.zapier.com';
const PATH = '/hooks/catch/123/abc/';
const creds = { hookUrl: `${HOOK}${PATH}`, signingSecret: 's'.repeat(32) };
const person = { email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '+1 (415) 555-0123 ext. 1234' };

function setup() {
  const guard = memoryGuard();
  return { guard, crm: pocketsuite.create(context(pocketsuite, creds, {}, { guard })) };
}
const zapier = { status: 'success', request_id: 'req-1' };

useNock({ assertDone: true });

describe('PocketSuite connector (catch hook)', () => {
  it.each([
    ['upsertContact', (c: ReturnType<typeof setup>['crm']) => c.upsertContact(person, { idempotencyKey: 'k-upsertContact' })],
    ['logActivity', (c: ReturnType<typeof setup>['crm']) => c.logActivity({ person, type: 'tour_started', title: 'Started', description: 'began', occurredAt: '2026-11-23T12:00:00.000Z' }, { idempotencyKey: 'k-logActivity' })],
    ['createTask', (c: ReturnType<typeof setup>['crm']) => c.createTask({ person, title: 'Follow up', dueDate: '2026-11-30', priority: 'high' }, { idempotencyKey: 'k-createTask' })],
    ['setCustomFields', (c: ReturnType<typeof setup>['crm']) => c.setCustomFields({ person, fields: { tour_rating: 5 } }, { idempotencyKey: 'k-setCustomFields' })],
    ['addNote', (c: ReturnType<typeof setup>['crm']) => c.addNote({ person, body: 'Lovely tour' }, { idempotencyKey: 'k-addNote' })],
  ] as const)('%s posts one signed envelope with the client in PocketSuite’s shape', async (event, run) => {
    const { crm, guard } = setup();
    let body: Record<string, unknown> = {};
    nock(HOOK)
      .post(PATH)
      .reply(function (_uri, b) {
        body = b as Record<string, unknown>;
        const raw = JSON.stringify(b);
        expect(verifySignature(creds.signingSecret, this.req.headers['x-tourhub-signature'] as string, raw, Date.parse('2026-11-23T12:00:00Z') / 1000)).toBe(true);
        expect(this.req.headers['x-tourhub-idempotency-key']).toBe(`k-${event}`);
        return [200, zapier];
      });
    await run(crm);
    expect(body).toMatchObject({
      event,
      idempotency_key: `k-${event}`,
      data: { client_id: 'ada@example.com', client: { email: 'ada@example.com', first_name: 'Ada', phone: '+14155550123', phone_national: '4155550123', phone_extension: '1234' } },
    });
    if (event !== 'upsertContact') expect(typeof (body.data as Record<string, unknown>).note).toBe('string');
    expect(guard.records.get(`k-${event}`)?.state).toBe('sent');
  });

  it('sends nothing for a key already sent; a key only attempted (crash mid-call) is posted again with the same idempotency_key for the Zap to drop', async () => {
    const { crm, guard } = setup();
    await guard.markSent('done', 'request:earlier');
    await expect(crm.addNote({ person, body: 'x' }, { idempotencyKey: 'done' })).resolves.toEqual({ noteId: 'request:earlier' });
    await guard.markAttempted('half');
    nock(HOOK).post(PATH, (b) => b.idempotency_key === 'half').matchHeader('x-tourhub-idempotency-key', 'half').reply(200, zapier);
    await expect(crm.addNote({ person, body: 'x' }, { idempotencyKey: 'half' })).resolves.toEqual({ noteId: 'request:req-1' });
  });

  it('ping posts a signed ping event', async () => {
    nock(HOOK).post(PATH, (b) => b.event === 'ping').reply(200, zapier);
    await setup().crm.ping();
  });

  describe('error classifier', () => {
    it.each(ERROR_CASES)('$name', (c) => expectClassified('pocketsuite', () => nock(HOOK).post(PATH), () => setup().crm.addNote({ person, body: 'x' }, { idempotencyKey: 'k' }), c));
  });
});
