import { basic, hex, json, obj, rfc2822, type ProviderSpec } from '../support/fake-core';

/**
 * Twilio Programmable Messaging (2010-04-01): no idempotency key; a repeat is a second text.
 * Served by the fake server core (test/support/fake-core.ts); started with the others by
 * test/support/fake-providers.ts.
 */
export function twilioSpec(): ProviderSpec {
  const accountSid = `AC${hex(16)}`;
  const authToken = hex(16);
  const from = '+15005550006';
  const messages: Record<string, unknown>[] = [];
  const error = (status: number, code: number, message: string) => ({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  const A = '^/2010-04-01/Accounts/([^/]+)';
  const notFound = () => json(404, error(404, 20404, 'The requested resource was not found'), 'not_found');
  return {
    id: 'twilio',
    errorBody: (status) => (status === 404 ? error(404, 20404, 'The requested resource was not found') : error(status, 20500, 'Internal Server Error')),
    integration: () => ({
      provider: 'twilio',
      category: 'sms',
      auth: 'api-key',
      credentials: { accountSid, authToken },
      settings: { from },
      routes: { sms_welcome_enabled: true },
    }),
    baseUrl: (url) => url,
    authorize(req) {
      const [user, password] = basic(req) ?? [];
      return user === accountSid && password === authToken ? undefined : json(401, error(401, 20003, 'Authenticate'), 'unauthorized');
    },
    routes: [
      {
        method: 'POST',
        path: new RegExp(`${A}/Messages\\.json$`),
        kind: 'write',
        key: (req) => {
          const b = obj(req.body);
          return `${String(b.To)}|${String(b.From ?? b.MessagingServiceSid)}|${String(b.Body)}`;
        },
        handle(req) {
          if (req.params[0] !== accountSid) return notFound();
          const b = obj(req.body);
          if (typeof b.To !== 'string' || !/^\+[1-9]\d{6,14}$/.test(b.To)) return json(400, error(400, 21211, `The 'To' number ${String(b.To)} is not a valid phone number.`), 'rejected');
          if (typeof b.Body !== 'string' || b.Body === '') return json(400, error(400, 21602, 'Message body is required.'), 'rejected');
          const now = Date.now();
          const sid = `SM${hex(16)}`;
          const message = {
            account_sid: accountSid,
            api_version: '2010-04-01',
            body: b.Body,
            date_created: rfc2822(now),
            date_sent: null as string | null,
            date_updated: rfc2822(now),
            direction: 'outbound-api',
            error_code: null,
            error_message: null,
            from: (b.From as string | undefined) ?? null,
            messaging_service_sid: (b.MessagingServiceSid as string | undefined) ?? null,
            num_media: '0',
            num_segments: '1',
            price: null,
            price_unit: 'USD',
            sid,
            status: 'queued',
            subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
            to: b.To,
            uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
          };
          // Answered as queued; by the next read it has gone out (a sender without a backlog).
          messages.unshift({ ...message, status: 'sent', date_sent: rfc2822(now) });
          return json(201, message, 'applied');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${A}/Messages\\.json$`),
        kind: 'read',
        handle(req) {
          if (req.params[0] !== accountSid) return notFound();
          const to = req.query.get('To');
          const sender = req.query.get('From');
          const after = req.query.get('DateSent>');
          const pageSize = Number(req.query.get('PageSize') ?? 50);
          const day = (rfc: unknown) => (typeof rfc === 'string' ? new Date(Date.parse(rfc)).toISOString().slice(0, 10) : undefined);
          const found = messages.filter((m) => (!to || m.to === to) && (!sender || m.from === sender) && (!after || (day(m.date_sent) ?? '') >= after));
          const uri = `/2010-04-01/Accounts/${accountSid}/Messages.json?PageSize=${pageSize}&Page=0`;
          return json(200, { messages: found.slice(0, pageSize), end: Math.min(found.length, pageSize) - 1, first_page_uri: uri, next_page_uri: null, page: 0, page_size: pageSize, previous_page_uri: null, start: 0, uri }, 'read');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${A}/Messages/([^/]+)\\.json$`),
        kind: 'read',
        handle(req) {
          const m = req.params[0] === accountSid ? messages.find((x) => x.sid === req.params[1]) : undefined;
          return m ? json(200, m, 'read') : notFound();
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${A}\\.json$`),
        kind: 'read',
        handle: (req) => (req.params[0] === accountSid ? json(200, { sid: accountSid, friendly_name: 'Fake account', status: 'active', type: 'Full' }, 'read') : notFound()),
      },
    ],
  };
}
