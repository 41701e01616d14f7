import { useNock } from '../../support/nock';
import nock from 'nock';
import { tave } from '../../../connectors/crm/tave';
import { taveContactRecord } from '../../../connectors/crm/tave/mapping';
import { context, connectorFailure } from '../../support/connectors';

// GET /address-book (listResourceAddressBook): page, pageSize (10 to 100), sortBy (`modified desc`, `id asc`, ...);
// a collection's meta carries currentPage and totalPages. GET /custom-field?canApplyTo=contact names the fields.
const ORIGIN = 'https://workspace.vsco.co';
const API_KEY = 'tave-key-123';
const STARTED = Date.parse('2026-11-28T12:00:00Z');
const FIELD = { id: '01hfield0000000000000000aa', name: 'Tour completed at', token: 'tour_completed_at', canApplyTo: 'contact' };

const crm = () => tave.create(context(tave, { apiKey: API_KEY }, {}));
const api = () => nock(ORIGIN, { reqheaders: { 'x-api-key': API_KEY, accept: 'application/json' } });
const page = (items: unknown[], currentPage: number, totalPages: number) => ({ type: 'addressbook-collection', meta: { currentPage, totalPages, rows: 100 }, items });
const ana = { id: '01hana', kind: 'person', email: 'Ana.Lima@Example.com', firstName: 'Ana', lastName: 'Lima', cellPhone: { e164: '+15551234567' }, modified: '2026-11-27T10:00:00Z', customFields: [{ fieldId: FIELD.id, value: '2026-11-23T03:00:00.000Z' }] };
const old = { id: '01hold', kind: 'person', email: 'old@example.com', firstName: 'Old', modified: '2026-11-01T10:00:00Z' };

useNock({ assertDone: true });

describe('VSCO Workspace (Táve) two-way sync reads', () => {
  it('a full pass reads the address book by id, page by page (custom field names read once), and names the next pass\'s cursor on the last page', async () => {
    const c = crm();
    api().get('/api/v2/custom-field').query({ canApplyTo: 'contact' }).reply(200, { items: [FIELD] });
    api().get('/api/v2/address-book').query({ page: 1, pageSize: 100, sortBy: 'id asc' }).reply(200, page([ana, { id: '01hco', kind: 'company', email: 'studio@example.com' }], 1, 2));
    api().get('/api/v2/address-book').query({ page: 2, pageSize: 100, sortBy: 'id asc' }).reply(200, page([old], 2, 2));
    const first = await c.listChanges!({ pageSize: 500, startedAt: STARTED });
    expect(first).toEqual({
      nextPage: '2',
      records: [
        {
          key: 'ana.lima@example.com',
          remoteId: '01hana',
          updatedAt: '2026-11-27T10:00:00Z',
          fields: { first_name: 'Ana', last_name: 'Lima', phone: '+15551234567', 'custom:tour completed at': '2026-11-23T03:00:00.000Z', 'custom:tour_completed_at': '2026-11-23T03:00:00.000Z' },
        },
      ],
    });
    const second = await c.listChanges!({ pageSize: 500, page: first.nextPage!, startedAt: STARTED });
    expect(second).toEqual({ cursor: '2026-11-28T12:00:00.000Z', records: [expect.objectContaining({ key: 'old@example.com', fields: { first_name: 'Old', last_name: null, phone: null } })] });
  });

  it('an incremental pass reads the newest changes first and stops at the first person older than the cursor', async () => {
    api().get('/api/v2/custom-field').query({ canApplyTo: 'contact' }).reply(200, { items: [FIELD] });
    api().get('/api/v2/address-book').query({ page: 1, pageSize: 10, sortBy: 'modified desc' }).reply(200, page([ana, old], 1, 5));
    const result = await crm().listChanges!({ cursor: '2026-11-20T00:00:00.000Z', pageSize: 1, startedAt: STARTED });
    expect(result.records.map((r) => r.key)).toEqual(['ana.lima@example.com']);
    expect(result).toMatchObject({ cursor: '2026-11-28T12:00:00.000Z' });
    expect(result.nextPage).toBeUndefined();
  });

  it('a cursor that is not a time is one it never gave: a full pass is needed', async () => {
    const err = await connectorFailure(crm().listChanges!({ cursor: 'nonsense', pageSize: 100, startedAt: STARTED }));
    expect(err).toMatchObject({ code: 'cursor_expired', retryable: false });
  });

  it('a 429 is retryable with its Retry-After', async () => {
    api().get('/api/v2/custom-field').query(true).reply(200, { items: [] });
    api().get('/api/v2/address-book').query(true).reply(429, { type: 'quota-limit', title: 'Too Many Requests', status: 429 }, { 'retry-after': '7', 'content-type': 'application/json' });
    const err = await connectorFailure(crm().listChanges!({ pageSize: 100, startedAt: STARTED }));
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 7000 });
  });

  it('companies and people without an email are nobody we sync', () => {
    expect(taveContactRecord({ id: '1', kind: 'company', email: 'a@b.c' }, [])).toBeUndefined();
    expect(taveContactRecord({ id: '1', kind: 'person', email: ' ' }, [])).toBeUndefined();
  });
});
