import { endpoint, refused } from '../../../endpoint';
import { presentResync, ResyncEnvelope } from './views';

export const startResync = endpoint({
  operationId: 'startResync',
  method: 'post',
  path: '/api/integrations/resync',
  tag: 'Sync',
  summary: "A full two-way sync of the organisation: every record of every readable integration compared",
  description:
    'Asks each enabled integration that two-way sync reads (Táve, Google Calendar, Outlook, Stripe, Mailchimp) for a full pass. Returns at once; follow it at GET /api/integrations/resync/{id} (and in each `sync:{integrationId}` workflow\'s details).',
  access: 'admin',
  responses: { 202: { description: 'Asked for; each integration\'s pass queued', json: ResyncEnvelope } },
  errors: ['no_readable_integrations', 'temporal_unavailable'],
}).handle(async ({ auth }, { sync }) => {
  const started = await sync.resync(auth);
  if (!started.ok) return refused(started.refusal);
  return { status: 202, body: { resync: presentResync(started.value) } };
});
