import type { EmailConnector } from '../../contracts';
import { ConnectorError } from '../../errors';
import { sendOnceOrFind } from '../../guard';
import { capOptional, normalizeEmail } from '../../normalize';
import type { ConnectorContext } from '../../registry-types';
import { apiBase, contactSyncBody, exactTag, type AcTag } from './mapping';

export interface ActiveCampaignCredentials {
  apiToken: string;
}

export interface ActiveCampaignSettings {
  apiUrl: string;
  listId?: string | undefined;
  /** Our sequence names -> automation ids. */
  automations: Record<string, string>;
  /** Our merge-field names -> custom field ids. */
  fieldIds: Record<string, string>;
}

const PROVIDER = 'activecampaign';

/**
 * Plain fetch through the guarded client: ActiveCampaign publishes no official Node SDK for API v3.
 * Every call carries the user's token in `Api-Token`.
 */
export function createActiveCampaignClient(ctx: ConnectorContext<ActiveCampaignCredentials, ActiveCampaignSettings>): EmailConnector {
  const http = ctx.http.client({ baseUrl: ctx.http.baseUrl ?? apiBase(ctx.settings.apiUrl), headers: () => ({ 'api-token': ctx.credentials.apiToken }) });

  const idOf = (value: unknown, what: string): string => {
    if ((typeof value === 'string' && value) || typeof value === 'number') return String(value);
    throw new ConnectorError({ code: 'unexpected_response', retryable: false, provider: PROVIDER, message: `ActiveCampaign answered ${what} without an id` });
  };

  /** GET /api/3/contacts?email=: the contact's id, or undefined if there is none. */
  async function contactId(email: string): Promise<string | undefined> {
    const res = await http.request<{ contacts?: { id: string; email: string }[] }>({ method: 'GET', path: 'contacts', query: { email: normalizeEmail(email) } });
    const found = (res.body?.contacts ?? []).find((c) => normalizeEmail(c.email) === normalizeEmail(email));
    return found?.id;
  }

  async function requireContact(email: string): Promise<string> {
    const id = await contactId(email);
    if (id === undefined) throw new ConnectorError({ code: 'not_found', retryable: false, provider: PROVIDER, message: 'ActiveCampaign has no contact with this email; upsert the subscriber first' });
    return id;
  }

  /** Find a tag by name (GET /api/3/tags?search=), else create it (POST /api/3/tags). */
  async function findTag(name: string): Promise<AcTag | undefined> {
    const found = await http.request<{ tags?: AcTag[] }>({ method: 'GET', path: 'tags', query: { search: name } });
    return exactTag(found.body?.tags, name);
  }

  async function tagId(name: string): Promise<string> {
    const tag = await findTag(name);
    if (tag) return tag.id;
    try {
      const created = await http.request<{ tag?: { id?: string } }>({ method: 'POST', path: 'tags', json: { tag: { tag: name, tagType: 'contact', description: 'Added by Tourhub' } } });
      return idOf(created.body?.tag?.id, 'a tag');
    } catch (err) {
      // Two calls tagging couples at once both find the tag missing; the second create is refused as a
      // duplicate name (422). The tag the other call made is the one to use.
      if (!(err instanceof ConnectorError && err.status === 422)) throw err;
      const made = await findTag(name);
      if (!made) throw err;
      return made.id;
    }
  }

  const names = (tags: string[]) => [...new Set(tags.map((t) => capOptional(t, 255)).filter((t): t is string => t !== undefined))];

  return {
    // contact/sync is ActiveCampaign's upsert by email; adding to a list that already has the contact
    // changes nothing. Both are safe to repeat, so no delivery record is needed.
    async upsertSubscriber(input) {
      const res = await http.request<{ contact?: { id?: string } }>({
        method: 'POST',
        path: 'contact/sync',
        json: contactSyncBody(input.person, input.mergeFields ?? {}, ctx.settings.fieldIds),
      });
      const id = idOf(res.body?.contact?.id, 'a contact');
      if (ctx.settings.listId) {
        await http.request({ method: 'POST', path: 'contactLists', json: { contactList: { list: ctx.settings.listId, contact: id, status: 1 } } });
      }
      return { subscriberId: id };
    },

    async addTags(input) {
      const contact = await requireContact(input.email);
      for (const name of names(input.tags)) {
        await http.request({ method: 'POST', path: 'contactTags', json: { contactTag: { contact, tag: await tagId(name) } } });
      }
    },

    async removeTags(input) {
      const contact = await contactId(input.email);
      if (contact === undefined) return;
      const res = await http.request<{ contactTags?: { id: string; tag: string }[] }>({ method: 'GET', path: `contacts/${contact}/contactTags` });
      const wanted = new Set<string>();
      for (const name of names(input.tags)) {
        const tag = await findTag(name);
        if (tag) wanted.add(String(tag.id));
      }
      for (const ct of res.body?.contactTags ?? []) {
        if (wanted.has(String(ct.tag))) await http.request({ method: 'DELETE', path: `contactTags/${ct.id}` });
      }
    },

    async triggerSequence(input, opts) {
      const automation = ctx.settings.automations[input.sequence];
      if (automation === undefined) {
        throw new ConnectorError({ code: 'misconfigured', retryable: false, provider: PROVIDER, message: `No ActiveCampaign automation is configured for the "${input.sequence}" sequence` });
      }
      const contact = await requireContact(input.email);
      // Adding a contact to an automation again may run it again (an automation can allow re-entry), and
      // there is no idempotency key. A crash mid-call is settled by asking which automations the contact
      // is in before adding it a second time.
      await sendOnceOrFind(
        ctx.guard,
        opts.idempotencyKey,
        async () => {
          const res = await http.request<{ contactAutomations?: { id: string; automation: string }[] }>({ method: 'GET', path: `contacts/${contact}/contactAutomations` });
          const found = (res.body?.contactAutomations ?? []).find((ca) => String(ca.automation) === String(automation));
          return found ? `contactAutomation:${found.id}` : undefined;
        },
        async () => {
          const res = await http.request<{ contactAutomation?: { id?: string } }>({ method: 'POST', path: 'contactAutomations', json: { contactAutomation: { contact, automation } } });
          return `contactAutomation:${idOf(res.body?.contactAutomation?.id, 'a contact automation')}`;
        },
      );
    },

    async ping() {
      await http.request({ method: 'GET', path: 'users/me' });
    },
  };
}
