import { useNock } from '../../support/nock';
import nock from 'nock';
import { mailchimp } from '../../../connectors/email/mailchimp';
import { mailchimpMemberRecord, MEMBER_FIELDS } from '../../../connectors/email/mailchimp/mapping';
import { context } from '../../support/connectors';

// GET /lists/{list_id}/members (list members info): count (max 1000), offset, fields, sort_field
// (timestamp_opt, timestamp_signup, last_changed), sort_dir, since_last_changed (ISO 8601); total_items.
const API_KEY = '0123456789abcdef0123456789abcdef-us6';
const API = 'https://us6.api.mailchimp.com';
const AUTH = 'Basic YW55c3RyaW5nOjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmLXVzNg==';
const STARTED = Date.parse('2026-11-28T12:00:00Z');

const email = () => mailchimp.create(context(mailchimp, { apiKey: API_KEY }, mailchimp.settingsSchema.parse({ listId: 'a1b2c3d4e5' })));
const api = () => nock(API, { reqheaders: { authorization: AUTH, accept: 'application/json' } });
const jane = { id: '9e26471d35a78862c17e467d87cddedf', email_address: 'Jane@Example.com', status: 'subscribed', merge_fields: { FNAME: 'Jane', LNAME: '' }, tags: [{ id: 1, name: 'Tour-Completed' }], last_changed: '2026-11-27T09:00:00+00:00' };

useNock({ assertDone: true });

describe('mailchimp two-way sync reads', () => {
  it('pages through the audience oldest change first with count and offset, only the fields it compares', async () => {
    const base = { fields: MEMBER_FIELDS, sort_field: 'last_changed', sort_dir: 'ASC' };
    api().get('/3.0/lists/a1b2c3d4e5/members').query({ ...base, count: 2, offset: 0 }).reply(200, { members: [jane, { ...jane, email_address: 'b@example.com' }], total_items: 3 });
    api().get('/3.0/lists/a1b2c3d4e5/members').query({ ...base, count: 2, offset: 2 }).reply(200, { members: [{ ...jane, email_address: 'c@example.com' }], total_items: 3 });
    const first = await email().listChanges!({ pageSize: 2, startedAt: STARTED });
    expect(first.nextPage).toBe('2');
    expect(first.records[0]).toEqual({
      key: 'jane@example.com',
      remoteId: '9e26471d35a78862c17e467d87cddedf',
      fields: { first_name: 'Jane', last_name: null, 'tag:tour-completed': true },
      updatedAt: '2026-11-27T09:00:00+00:00',
    });
    const last = await email().listChanges!({ pageSize: 2, page: '2', startedAt: STARTED });
    expect(last).toEqual({ records: [expect.objectContaining({ key: 'c@example.com' })], cursor: '2026-11-28T12:00:00.000Z' });
  });

  it('an incremental pass asks only for members changed since the cursor', async () => {
    api()
      .get('/3.0/lists/a1b2c3d4e5/members')
      .query({ fields: MEMBER_FIELDS, sort_field: 'last_changed', sort_dir: 'ASC', count: 1000, offset: 0, since_last_changed: '2026-11-27T00:00:00.000Z' })
      .reply(200, { members: [], total_items: 0 });
    expect(await email().listChanges!({ cursor: '2026-11-27T00:00:00.000Z', pageSize: 5000, startedAt: STARTED })).toEqual({ records: [], cursor: '2026-11-28T12:00:00.000Z' });
  });

  it('a member without an address is nobody we sync', () => {
    expect(mailchimpMemberRecord({ id: 'x' })).toBeUndefined();
  });
});
