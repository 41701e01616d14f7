import type { EmailConnector } from '../../contracts';
import { ConnectorError } from '../../errors';
import { normalizeEmail } from '../../normalize';
import type { ConnectorContext } from '../../registry-types';
import {
  authorization,
  baseUrlFor,
  DEFAULT_MERGE_TAGS,
  journeyTriggerPath,
  mailchimpMemberRecord,
  MEMBER_FIELDS,
  memberBody,
  subscriberHash,
  tagsBody,
  type JourneyStep,
  type MailchimpMembersPage,
  type StatusIfNew,
} from './mapping';

export interface MailchimpCredentials {
  apiKey: string;
}

export interface MailchimpSettings {
  listId: string;
  /** Our sequence names ('welcome', 're-engagement') -> the Customer Journey step that starts them. */
  sequences: Record<string, JourneyStep>;
  statusIfNew: StatusIfNew;
  /** Our merge-field names -> the audience's merge tags. */
  mergeFieldTags: Record<string, string>;
}

const PROVIDER = 'mailchimp';

/**
 * Plain fetch through createHttpClient rather than @mailchimp/mailchimp_marketing: that SDK is one
 * process-wide client (`setConfig` on a module singleton), so two organisations' keys in one worker
 * would overwrite each other, and its superagent errors would need their own mapping.
 */
export function createMailchimpClient(ctx: ConnectorContext<MailchimpCredentials, MailchimpSettings>): EmailConnector {
  const { settings } = ctx;
  const http = ctx.http.client({
    baseUrl: ctx.http.baseUrl ?? baseUrlFor(ctx.credentials.apiKey),
    headers: () => ({ authorization: authorization(ctx.credentials.apiKey) }),
  });
  const list = `lists/${encodeURIComponent(settings.listId)}`;
  const member = (email: string) => `${list}/members/${subscriberHash(email)}`;

  async function setTags(email: string, tags: string[], status: 'active' | 'inactive') {
    const body = tagsBody(tags, status);
    if (body.tags.length === 0) return;
    // Naturally idempotent: setting a tag active twice leaves it active.
    await http.request({ method: 'POST', path: `${member(email)}/tags`, json: body });
  }

  return {
    async upsertSubscriber(input) {
      // Naturally idempotent: PUT on the member's hash creates or updates the same member.
      const res = await http.request<{ id?: string }>({
        method: 'PUT',
        path: member(input.person.email),
        query: { skip_merge_validation: true },
        json: memberBody(input.person, {
          statusIfNew: settings.statusIfNew,
          mergeFieldTags: { ...DEFAULT_MERGE_TAGS, ...settings.mergeFieldTags },
          ...(input.mergeFields ? { mergeFields: input.mergeFields } : {}),
        }),
      });
      return { subscriberId: res.body?.id ?? subscriberHash(input.person.email) };
    },

    addTags: (input) => setTags(input.email, input.tags, 'active'),
    removeTags: (input) => setTags(input.email, input.tags, 'inactive'),

    async triggerSequence(input, opts) {
      const step = settings.sequences[input.sequence];
      if (!step) {
        throw new ConnectorError({
          code: 'misconfigured',
          retryable: false,
          provider: PROVIDER,
          message: `No Customer Journey step is configured for the "${input.sequence}" sequence`,
        });
      }
      // A journey trigger is not idempotent, and Mailchimp has no key for it: our delivery record is.
      const key = opts.idempotencyKey;
      const prior = await ctx.guard.find(key);
      if (prior?.state === 'sent') return;
      // 'attempted' means a crash mid-call: Mailchimp offers no read of who entered a journey, so the
      // trigger is sent again (see README: a journey set to admit a contact once makes that harmless).
      if (!prior) await ctx.guard.markAttempted(key);
      await http.request({ method: 'POST', path: journeyTriggerPath(step), json: { email_address: normalizeEmail(input.email) } });
      await ctx.guard.markSent(key, `${step.journeyId}/${step.stepId}`);
    },

    async ping() {
      // Authenticated and checks the configured audience exists, which GET /ping would not.
      await http.request({ method: 'GET', path: list, query: { fields: 'id' } });
    },

    /**
     * The audience's members, oldest change first (`sort_field=last_changed`), from the cursor on
     * (`since_last_changed`) or all of them for a full pass; `count` up to 1000 and `offset` as the page
     * token. The next cursor is when this pass started.
     */
    async listChanges(query) {
      const count = Math.min(Math.max(query.pageSize, 1), 1000);
      const offset = query.page !== undefined ? Math.max(0, Number(query.page) || 0) : 0;
      const res = await http.request<MailchimpMembersPage>({
        method: 'GET',
        path: `${list}/members`,
        query: {
          count,
          offset,
          fields: MEMBER_FIELDS,
          sort_field: 'last_changed',
          sort_dir: 'ASC',
          ...(query.cursor !== undefined ? { since_last_changed: query.cursor } : {}),
        },
      });
      const members = Array.isArray(res.body?.members) ? res.body.members : [];
      const records = members.map(mailchimpMemberRecord).filter((r) => r !== undefined);
      const total = typeof res.body?.total_items === 'number' ? res.body.total_items : offset + members.length;
      if (members.length === count && offset + count < total) return { records, nextPage: String(offset + count) };
      return { records, cursor: new Date(query.startedAt).toISOString() };
    },
  };
}
