import { useNock } from '../../support/nock';
import nock from 'nock';
import { kit } from '../../../connectors/email/kit';
import { context, memoryGuard } from '../../support/connectors';
import { ERROR_CASES, expectClassified } from '../error-table';

// Shapes from https://developers.kit.com/api-reference (v4: subscribers, tags, sequences, account).
const API = 'https://api.kit.com';
const KEY = 'kit_0123456789abcdef';
const json = { 'content-type': 'application/json' };
const settings = { sequences: { welcome: 101, 're-engagement': 102 }, fieldKeys: { resumeUrl: 'resume_url' } };

function setup() {
  const guard = memoryGuard();
  return { guard, email: kit.create(context(kit, { apiKey: KEY }, settings, { guard })) };
}
const api = () => nock(API, { reqheaders: { 'x-kit-api-key': KEY } });

useNock({ assertDone: true });

describe('Kit connector', () => {
  it('upsertSubscriber posts the lower-cased email, first name and mapped fields as an active subscriber', async () => {
    const { email } = setup();
    api()
      .post('/v4/subscribers', { email_address: 'ada@example.com', first_name: 'Ada', state: 'active', fields: { resume_url: 'https://app.example/resume' } })
      .reply(201, { subscriber: { id: 3, email_address: 'ada@example.com', state: 'active' } }, json);
    await expect(
      email.upsertSubscriber({ person: { email: ' Ada@Example.com ', firstName: 'Ada', lastName: 'Lovelace' }, mergeFields: { resumeUrl: 'https://app.example/resume', unmapped: 'x' } }, { idempotencyKey: 'k' }),
    ).resolves.toEqual({ subscriberId: '3' });
  });

  it('addTags finds or creates each tag by name, then tags the subscriber by email', async () => {
    const { email } = setup();
    api().post('/v4/tags', { name: 'tour-completed' }).reply(200, { tag: { id: 7, name: 'tour-completed' } }, json);
    api().post('/v4/tags/7/subscribers', { email_address: 'ada@example.com' }).reply(201, { subscriber: { id: 3 } }, json);
    await email.addTags({ email: 'Ada@Example.com', tags: ['tour-completed', ' tour-completed '] }, { idempotencyKey: 'k' });
  });

  it('removeTags removes the tag by email and treats 404 (not tagged) as done', async () => {
    const { email } = setup();
    api().post('/v4/tags', { name: 'tour-abandoned' }).reply(200, { tag: { id: 8 } }, json);
    api().delete('/v4/tags/8/subscribers', { email_address: 'ada@example.com' }).reply(404, { errors: ['Not Found'] }, json);
    await email.removeTags({ email: 'ada@example.com', tags: ['tour-abandoned'] }, { idempotencyKey: 'k' });
  });

  it('triggerSequence adds the subscriber to the configured sequence once per key', async () => {
    const { email, guard } = setup();
    api().post('/v4/sequences/101/subscribers', { email_address: 'ada@example.com' }).reply(201, { subscriber: { id: 3 } }, json);
    await email.triggerSequence({ email: 'ada@example.com', sequence: 'welcome' }, { idempotencyKey: 'seq-1' });
    await email.triggerSequence({ email: 'ada@example.com', sequence: 'welcome' }, { idempotencyKey: 'seq-1' });
    expect(guard.records.get('seq-1')).toEqual({ state: 'sent', reference: 'sequence:101' });
  });

  it('after a crash mid-call adds again (Kit keeps a subscriber in a sequence once)', async () => {
    const { email, guard } = setup();
    await guard.markAttempted('seq-2');
    api().post('/v4/sequences/102/subscribers').reply(200, { subscriber: { id: 3 } }, json);
    await email.triggerSequence({ email: 'ada@example.com', sequence: 're-engagement' }, { idempotencyKey: 'seq-2' });
    expect(guard.records.get('seq-2')?.state).toBe('sent');
  });

  it('refuses an unmapped sequence as misconfigured without calling Kit', async () => {
    await expect(setup().email.triggerSequence({ email: 'a@b.c', sequence: 'other' }, { idempotencyKey: 'k' })).rejects.toMatchObject({ code: 'misconfigured', retryable: false });
  });

  it('ping reads the account', async () => {
    api().get('/v4/account').reply(200, { account: { id: 1 } }, json);
    await setup().email.ping();
  });

  describe('error classifier', () => {
    it.each(ERROR_CASES)('$name', (c) => expectClassified('kit', () => nock(API).post('/v4/subscribers'), () => setup().email.upsertSubscriber({ person: { email: 'a@b.c' } }, { idempotencyKey: 'k' }), c));
  });
});
