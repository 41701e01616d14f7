import { useNock } from '../../support/nock';
import nock from 'nock';
import { mailchimp } from '../../../connectors/email/mailchimp';
import { authorization, baseUrlFor, dataCenter, journeyTriggerPath, memberBody, subscriberHash, tagsBody } from '../../../connectors/email/mailchimp/mapping';
import type { DeliveryGuard } from '../../../connectors/contracts';
import { context, memoryGuard, connectorFailure } from '../../support/connectors';

// Request shapes from the Marketing API 3.0 reference:
// https://mailchimp.com/developer/marketing/api/list-members/add-or-update-list-member/
// https://mailchimp.com/developer/marketing/api/list-member-tags/add-or-remove-member-tags/
// https://mailchimp.com/developer/marketing/api/customer-journeys/ (trigger a step for a contact)
// Auth and data centre: https://mailchimp.com/developer/marketing/docs/fundamentals/
const API_KEY = '0123456789abcdef0123456789abcdef-us6';
const API = 'https://us6.api.mailchimp.com';
const AUTH = 'Basic YW55c3RyaW5nOjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmLXVzNg==';
const JANE = '9e26471d35a78862c17e467d87cddedf'; // md5('jane@example.com')
const person = { email: 'Jane@Example.com', firstName: 'Jane', lastName: 'Doe', weddingDate: '2027-06-12' };

function connector(settings: Record<string, unknown> = {}, extra: { guard?: DeliveryGuard; timeoutMs?: number; baseUrl?: string } = {}) {
  const parsed = mailchimp.settingsSchema.parse({
    listId: 'a1b2c3d4e5',
    sequences: { welcome: { journeyId: 12, stepId: 34 }, 're-engagement': { journeyId: '56', stepId: '78' } },
    ...settings,
  });
  return mailchimp.create(context(mailchimp, { apiKey: API_KEY }, parsed, extra));
}

function api(base = API, headers: Record<string, string> = {}) {
  return nock(base, { reqheaders: { authorization: AUTH, accept: 'application/json', ...headers } });
}
const json = { 'content-type': 'application/json' };


useNock();

describe('mailchimp connector requests', () => {
  it('upsertSubscriber PUTs the member at the md5 of the lower-cased email, with status_if_new only', async () => {
    const scope = api(API, json)
      .put(`/3.0/lists/a1b2c3d4e5/members/${JANE}`, { email_address: 'jane@example.com', status_if_new: 'subscribed', merge_fields: { FNAME: 'Jane', LNAME: 'Doe' } })
      .query({ skip_merge_validation: 'true' })
      .reply(200, { id: JANE, email_address: 'Jane@Example.com', status: 'subscribed' }, json);

    await expect(connector().upsertSubscriber({ person }, { idempotencyKey: 'evt-1' })).resolves.toEqual({ subscriberId: JANE });
    expect(scope.isDone()).toBe(true);
  });

  it('upsertSubscriber sends the resume link under the audience’s merge tag on abandonment', async () => {
    const scope = api(API, json)
      .put(`/3.0/lists/a1b2c3d4e5/members/${JANE}`, {
        email_address: 'jane@example.com',
        status_if_new: 'pending',
        merge_fields: { RESUMEURL: 'https://app.example/tours/t1/resume', WEDDATE: '2027-06-12' },
      })
      .query({ skip_merge_validation: 'true' })
      .reply(200, { id: JANE }, json);

    await connector({ statusIfNew: 'pending', mergeFieldTags: { resumeUrl: 'RESUMEURL', weddingDate: 'WEDDATE' } }).upsertSubscriber(
      { person: { email: 'jane@example.com', weddingDate: '2027-06-12' }, mergeFields: { resumeUrl: 'https://app.example/tours/t1/resume' } },
      { idempotencyKey: 'evt-2' },
    );
    expect(scope.isDone()).toBe(true);
  });

  it('addTags POSTs the tags as active', async () => {
    const scope = api(API, json)
      .post(`/3.0/lists/a1b2c3d4e5/members/${JANE}/tags`, { tags: [{ name: 'tour-completed', status: 'active' }, { name: 'onboarding', status: 'active' }] })
      .reply(204);

    await connector().addTags({ email: 'jane@example.com', tags: ['tour-completed', 'onboarding', 'tour-completed'] }, { idempotencyKey: 'evt-3' });
    expect(scope.isDone()).toBe(true);
  });

  it('removeTags POSTs the tags as inactive', async () => {
    const scope = api(API, json).post(`/3.0/lists/a1b2c3d4e5/members/${JANE}/tags`, { tags: [{ name: 'tour-in-progress', status: 'inactive' }] }).reply(204);

    await connector().removeTags({ email: 'jane@example.com', tags: ['tour-in-progress'] }, { idempotencyKey: 'evt-4' });
    expect(scope.isDone()).toBe(true);
  });

  it('makes no call for an empty tag list', async () => {
    await expect(connector().addTags({ email: 'jane@example.com', tags: [] }, { idempotencyKey: 'evt-5' })).resolves.toBeUndefined();
  });

  it('triggerSequence POSTs the email to the configured journey step and records the delivery', async () => {
    const guard = memoryGuard();
    const scope = api(API, json).post('/3.0/customer-journeys/journeys/12/steps/34/actions/trigger', { email_address: 'jane@example.com' }).reply(204);

    await connector({}, { guard }).triggerSequence({ email: 'jane@example.com', sequence: 'welcome' }, { idempotencyKey: 'evt-6:welcome' });

    expect(scope.isDone()).toBe(true);
    expect(guard.records.get('evt-6:welcome')).toEqual({ state: 'sent', reference: '12/34' });
  });

  it('triggerSequence with a key already sent makes no HTTP call', async () => {
    const guard = memoryGuard();
    const scope = api(API, json).post('/3.0/customer-journeys/journeys/56/steps/78/actions/trigger').once().reply(204);
    const email = connector({}, { guard });

    await email.triggerSequence({ email: 'jane@example.com', sequence: 're-engagement' }, { idempotencyKey: 'evt-7' });
    await email.triggerSequence({ email: 'jane@example.com', sequence: 're-engagement' }, { idempotencyKey: 'evt-7' });

    expect(scope.isDone()).toBe(true);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('triggerSequence after a crash mid-call (guard says attempted) triggers again and records it', async () => {
    const guard = memoryGuard();
    await guard.markAttempted('evt-8');
    const scope = api(API, json).post('/3.0/customer-journeys/journeys/12/steps/34/actions/trigger', { email_address: 'jane@example.com' }).reply(204);

    await connector({}, { guard }).triggerSequence({ email: 'jane@example.com', sequence: 'welcome' }, { idempotencyKey: 'evt-8' });

    expect(scope.isDone()).toBe(true);
    expect(guard.records.get('evt-8')).toEqual({ state: 'sent', reference: '12/34' });
  });

  it('triggerSequence leaves the delivery attempted when Mailchimp fails, so the retry sends', async () => {
    const guard = memoryGuard();
    const scope = api(API, json).post('/3.0/customer-journeys/journeys/12/steps/34/actions/trigger').reply(503, { title: 'Service Unavailable' }, json);

    const err = await connectorFailure(connector({}, { guard }).triggerSequence({ email: 'jane@example.com', sequence: 'welcome' }, { idempotencyKey: 'evt-9' }));

    expect(err).toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(guard.records.get('evt-9')).toEqual({ state: 'attempted' });
    expect(scope.isDone()).toBe(true);
  });

  it('triggerSequence for a sequence with no journey configured fails without retrying or calling', async () => {
    const err = await connectorFailure(connector().triggerSequence({ email: 'jane@example.com', sequence: 'birthday' }, { idempotencyKey: 'evt-10' }));
    expect(err).toMatchObject({ code: 'misconfigured', retryable: false, provider: 'mailchimp' });
  });

  it('ping reads the configured audience', async () => {
    const scope = api().get('/3.0/lists/a1b2c3d4e5').query({ fields: 'id' }).reply(200, { id: 'a1b2c3d4e5' }, json);
    await connector().ping();
    expect(scope.isDone()).toBe(true);
  });

  it('uses the deployment’s base URL for mailchimp instead of the key’s data centre', async () => {
    const scope = api('http://127.0.0.1:4010').get('/3.0/lists/a1b2c3d4e5').query({ fields: 'id' }).reply(200, { id: 'a1b2c3d4e5' }, json);
    await connector({}, { baseUrl: 'http://127.0.0.1:4010/3.0' }).ping();
    expect(scope.isDone()).toBe(true);
  });
});

describe('mailchimp error mapping (a fetch-based provider)', () => {
  type Case = { name: string; reply: (i: nock.Interceptor) => nock.Scope; timeoutMs?: number; expected: { code: string; retryable: boolean; status?: number; retryAfterMs?: number } };
  const problem = (status: number, title: string) => ({ type: 'https://mailchimp.com/developer/marketing/docs/errors/', title, status, detail: title, instance: 'x' });
  const pj = { 'content-type': 'application/problem+json' };
  const cases: Case[] = [
    { name: '400', reply: (i) => i.reply(400, problem(400, 'Invalid Resource'), pj), expected: { code: 'bad_request', retryable: false, status: 400 } },
    { name: '401', reply: (i) => i.reply(401, problem(401, 'API Key Invalid'), pj), expected: { code: 'unauthorized', retryable: false, status: 401 } },
    { name: '403', reply: (i) => i.reply(403, problem(403, 'Forbidden'), pj), expected: { code: 'forbidden', retryable: false, status: 403 } },
    { name: '404', reply: (i) => i.reply(404, problem(404, 'Resource Not Found'), pj), expected: { code: 'not_found', retryable: false, status: 404 } },
    { name: '409', reply: (i) => i.reply(409, problem(409, 'Conflict'), pj), expected: { code: 'conflict', retryable: false, status: 409 } },
    { name: '422', reply: (i) => i.reply(422, problem(422, 'Unprocessable Entity'), pj), expected: { code: 'unprocessable', retryable: false, status: 422 } },
    { name: '429 without Retry-After', reply: (i) => i.reply(429, problem(429, 'Too Many Requests'), pj), expected: { code: 'rate_limited', retryable: true, status: 429 } },
    {
      name: '429 with Retry-After',
      reply: (i) => i.reply(429, problem(429, 'Too Many Requests'), { ...pj, 'Retry-After': '12' }),
      expected: { code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 12000 },
    },
    { name: '500', reply: (i) => i.reply(500, problem(500, 'Internal Server Error'), pj), expected: { code: 'provider_unavailable', retryable: true, status: 500 } },
    { name: '502', reply: (i) => i.reply(502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' }), expected: { code: 'provider_unavailable', retryable: true, status: 502 } },
    { name: '503', reply: (i) => i.reply(503, problem(503, 'Service Unavailable'), pj), expected: { code: 'provider_unavailable', retryable: true, status: 503 } },
    {
      name: 'connection reset',
      reply: (i) => i.replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })),
      expected: { code: 'network', retryable: true },
    },
    { name: 'timeout', timeoutMs: 50, reply: (i) => i.delay(500).reply(200, { id: JANE }, json), expected: { code: 'timeout', retryable: true } },
  ];

  it.each(cases)('$name -> $expected.code', async ({ reply, timeoutMs = 2000, expected }) => {
    const scope = reply(api().put(`/3.0/lists/a1b2c3d4e5/members/${JANE}`).query(true));

    const err = await connectorFailure(connector({}, { timeoutMs }).upsertSubscriber({ person }, { idempotencyKey: 'evt-err' }));

    expect(err.provider).toBe('mailchimp');
    expect({ code: err.code, retryable: err.retryable, status: err.status, retryAfterMs: err.retryAfterMs }).toEqual({ status: undefined, retryAfterMs: undefined, ...expected });
    expect(scope.isDone()).toBe(true);
  });
});

describe('mailchimp mapping', () => {
  it('hashes the lower-cased, trimmed email (Mailchimp’s documented example)', () => {
    expect(subscriberHash('urist.mcvankab@freddiesjokes.com')).toBe('62eeb292278cc15f5817cb78f7790b08');
    expect(subscriberHash(' Jane@Example.COM ')).toBe(JANE);
  });

  it('finds the data centre in the key and builds the host and basic auth from it', () => {
    expect(dataCenter(API_KEY)).toBe('us6');
    expect(baseUrlFor('abc-us21')).toBe('https://us21.api.mailchimp.com/3.0');
    expect(authorization(API_KEY)).toBe(AUTH);
    expect(() => dataCenter('no-data-centre')).toThrow(/data centre/);
  });

  it('builds the member body with FNAME/LNAME, mapped merge tags and passthrough tags', () => {
    expect(memberBody({ email: ' a@b.c ', firstName: 'A' }, { statusIfNew: 'subscribed', mergeFieldTags: { resumeUrl: 'RESUMEURL' }, mergeFields: { resumeUrl: 'u', PLAN: 'p' } })).toEqual({
      email_address: 'a@b.c',
      status_if_new: 'subscribed',
      merge_fields: { FNAME: 'A', RESUMEURL: 'u', PLAN: 'p' },
    });
  });

  it('deduplicates and trims tags', () => {
    expect(tagsBody([' a ', 'a', '', 'b'], 'inactive')).toEqual({ tags: [{ name: 'a', status: 'inactive' }, { name: 'b', status: 'inactive' }] });
  });

  it('builds the journey trigger path', () => {
    expect(journeyTriggerPath({ journeyId: 12, stepId: '34' })).toBe('customer-journeys/journeys/12/steps/34/actions/trigger');
  });

  it('validates credentials and applies setting defaults', () => {
    expect(mailchimp.credentialsSchema.safeParse({ apiKey: 'nodatacentre' }).success).toBe(false);
    expect(mailchimp.settingsSchema.parse({ listId: 'l1' })).toEqual({ listId: 'l1', sequences: {}, statusIfNew: 'subscribed', mergeFieldTags: {} });
    expect(mailchimp.settingsSchema.safeParse({}).success).toBe(false);
  });
});
