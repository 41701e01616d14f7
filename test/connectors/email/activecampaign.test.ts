import { useNock } from '../../support/nock';
import nock from 'nock';
import { activecampaign } from '../../../connectors/email/activecampaign';
import { context, memoryGuard } from '../../support/connectors';
import { ERROR_CASES, expectClassified } from '../error-table';

// Shapes from https://developers.activecampaign.com/reference (contact/sync, contactLists, tags, contactTags, contactAutomations, users/me).
const API = 'https://tourhub.api-us1.com';
const TOKEN = 'ac-token-0123456789abcdef0123';
const json = { 'content-type': 'application/json' };
const settings = { apiUrl: API, listId: '4', automations: { welcome: '12' }, fieldIds: { resumeUrl: '9' } };

function setup() {
  const guard = memoryGuard();
  return { guard, email: activecampaign.create(context(activecampaign, { apiToken: TOKEN }, settings, { guard })) };
}
const api = () => nock(API, { reqheaders: { 'api-token': TOKEN } });
const contact = () => api().get('/api/3/contacts').query({ email: 'ada@example.com' }).reply(200, { contacts: [{ id: '55', email: 'Ada@example.com' }] }, json);

useNock({ assertDone: true });

describe('ActiveCampaign connector', () => {
  it('upsertSubscriber syncs the contact (lower-cased email, phone with its extension, mapped fields) and adds it to the list', async () => {
    const { email } = setup();
    api()
      .post('/api/3/contact/sync', { contact: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '+1 415 555 0123 ext. 1234', fieldValues: [{ field: '9', value: 'https://app.example/r' }] } })
      .reply(201, { contact: { id: '55' } }, json);
    api().post('/api/3/contactLists', { contactList: { list: '4', contact: '55', status: 1 } }).reply(200, { contactList: { id: '1' } }, json);
    await expect(
      email.upsertSubscriber({ person: { email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '+1 (415) 555-0123 ext. 1234' }, mergeFields: { resumeUrl: 'https://app.example/r' } }, { idempotencyKey: 'k' }),
    ).resolves.toEqual({ subscriberId: '55' });
  });

  it('addTags finds the tag by name (creating a missing one) and tags the contact', async () => {
    const { email } = setup();
    contact();
    api().get('/api/3/tags').query({ search: 'tour-completed' }).reply(200, { tags: [{ id: '3', tag: 'tour-completed-old' }] }, json);
    api().post('/api/3/tags', { tag: { tag: 'tour-completed', tagType: 'contact', description: 'Added by Tourhub' } }).reply(201, { tag: { id: '4' } }, json);
    api().post('/api/3/contactTags', { contactTag: { contact: '55', tag: '4' } }).reply(201, { contactTag: { id: '90' } }, json);
    await email.addTags({ email: 'ada@example.com', tags: ['tour-completed'] }, { idempotencyKey: 'k' });
  });

  it('addTags uses the tag another call made meanwhile when its own create is refused as a duplicate name', async () => {
    const { email } = setup();
    contact();
    api().get('/api/3/tags').query({ search: 'wedsync-onboarded' }).reply(200, { tags: [] }, json);
    api()
      .post('/api/3/tags', { tag: { tag: 'wedsync-onboarded', tagType: 'contact', description: 'Added by Tourhub' } })
      .reply(422, { errors: [{ title: 'Duplicate tag name.', code: 'duplicate', source: { pointer: '/data/attributes/tag' } }] }, json);
    api().get('/api/3/tags').query({ search: 'wedsync-onboarded' }).reply(200, { tags: [{ id: '7', tag: 'wedsync-onboarded' }] }, json);
    api().post('/api/3/contactTags', { contactTag: { contact: '55', tag: '7' } }).reply(201, { contactTag: { id: '91' } }, json);
    await email.addTags({ email: 'ada@example.com', tags: ['wedsync-onboarded'] }, { idempotencyKey: 'k' });
  });

  it('removeTags deletes the contact’s tag link', async () => {
    const { email } = setup();
    contact();
    api().get('/api/3/contacts/55/contactTags').reply(200, { contactTags: [{ id: '90', tag: '4' }, { id: '91', tag: '5' }] }, json);
    api().get('/api/3/tags').query({ search: 'tour-completed' }).reply(200, { tags: [{ id: '4', tag: 'tour-completed' }] }, json);
    api().delete('/api/3/contactTags/90').reply(200, {}, json);
    await email.removeTags({ email: 'ada@example.com', tags: ['tour-completed'] }, { idempotencyKey: 'k' });
  });

  it('triggerSequence adds the contact to the automation and records it', async () => {
    const { email, guard } = setup();
    contact();
    api().post('/api/3/contactAutomations', { contactAutomation: { contact: '55', automation: '12' } }).reply(201, { contactAutomation: { id: '700' } }, json);
    await email.triggerSequence({ email: 'ada@example.com', sequence: 'welcome' }, { idempotencyKey: 'a-1' });
    expect(guard.records.get('a-1')).toEqual({ state: 'sent', reference: 'contactAutomation:700' });
  });

  it('after a crash mid-call finds the contact already in the automation and does not add it again', async () => {
    const { email, guard } = setup();
    await guard.markAttempted('a-2');
    contact();
    api().get('/api/3/contacts/55/contactAutomations').reply(200, { contactAutomations: [{ id: '700', automation: '12' }] }, json);
    await email.triggerSequence({ email: 'ada@example.com', sequence: 'welcome' }, { idempotencyKey: 'a-2' });
    expect(guard.records.get('a-2')).toEqual({ state: 'sent', reference: 'contactAutomation:700' });
  });

  it('ping reads the user', async () => {
    api().get('/api/3/users/me').reply(200, { user: { id: '1' } }, json);
    await setup().email.ping();
  });

  describe('error classifier', () => {
    it.each(ERROR_CASES)('$name', (c) => expectClassified('activecampaign', () => nock(API).post('/api/3/contact/sync'), () => setup().email.upsertSubscriber({ person: { email: 'a@b.c' } }, { idempotencyKey: 'k' }), c));
  });
});
