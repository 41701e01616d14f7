import type { VendorHttp } from '../../http';
import type { TaveCollection, TaveContact, TaveCustomField, TaveCustomFieldValue, TaveNoteWrite, TavePersonWrite } from './mapping';

export const TAVE_BASE_URL = 'https://workspace.vsco.co/api/v2';
export const TAVE_HOSTS = ['workspace.vsco.co'];

export interface TaveClientOptions {
  apiKey: string;
  http: VendorHttp;
}

/** The VSCO Workspace API v2 calls this connector makes, authenticated with the `X-API-KEY` header. */
export function createTaveClient(opts: TaveClientOptions) {
  const http = opts.http.client({ baseUrl: opts.http.baseUrl ?? TAVE_BASE_URL, headers: () => ({ 'x-api-key': opts.apiKey }) });

  return {
    /** GET /address-book?email=: contacts ranked by email match (listResourceAddressBook). */
    async findContactsByEmail(email: string): Promise<TaveCollection<TaveContact>> {
      const res = await http.request<TaveCollection<TaveContact>>({ method: 'GET', path: 'address-book', query: { email } });
      return { ...res.body, items: Array.isArray(res.body?.items) ? res.body.items : [] };
    },

    /** POST /address-book (createResourceAddressBook): 201 with the new Person. */
    async createContact(person: TavePersonWrite): Promise<TaveContact> {
      return (await http.request<TaveContact>({ method: 'POST', path: 'address-book', json: person })).body;
    },

    /** PUT /address-book/{id} (updateResourceAddressBook). */
    async updateContact(id: string, body: Partial<TavePersonWrite> & { kind: 'person'; customFields?: TaveCustomFieldValue[] }): Promise<TaveContact> {
      return (await http.request<TaveContact>({ method: 'PUT', path: `address-book/${encodeURIComponent(id)}`, json: body })).body;
    },

    /**
     * GET /address-book?page=&pageSize=&sortBy= (listResourceAddressBook): one page of the studio's
     * address book. pageSize is 10 to 100; sortBy `modified desc` puts what changed last first.
     */
    async listContacts(query: { page: number; pageSize: number; sortBy: 'id asc' | 'modified desc' }): Promise<TaveCollection<TaveContact>> {
      const res = await http.request<TaveCollection<TaveContact>>({ method: 'GET', path: 'address-book', query });
      return { ...res.body, items: Array.isArray(res.body?.items) ? res.body.items : [] };
    },

    /** GET /custom-field?canApplyTo=contact (listResourceCustomField). */
    async listContactCustomFields(): Promise<TaveCustomField[]> {
      const res = await http.request<TaveCollection<TaveCustomField>>({ method: 'GET', path: 'custom-field', query: { canApplyTo: 'contact' } });
      return Array.isArray(res.body?.items) ? res.body.items : [];
    },

    /** POST /note (createResourceNote): 201 with the Note. */
    async createNote(note: TaveNoteWrite): Promise<{ id: string }> {
      return (await http.request<{ id: string }>({ method: 'POST', path: 'note', json: note })).body;
    },

    /** GET /studio/me (getResourceMyStudio): one small authenticated read. */
    async myStudio(): Promise<{ id?: string; name?: string }> {
      return (await http.request<{ id?: string; name?: string }>({ method: 'GET', path: 'studio/me' })).body;
    },
  };
}

export type TaveClient = ReturnType<typeof createTaveClient>;
