import crypto from 'node:crypto';
import { alnum, json, obj, type FakeRequest, type ProviderSpec, type Reply } from '../support/fake-core';

/**
 * Bird's Channels API (https://docs.bird.com/api/channels-api/api-reference/messaging) on one workspace
 * and its installed SMS channel, with `Authorization: AccessKey <key>`: send a message, list the
 * channel's messages, read one, read the channel (the ping).
 *
 * Identity of a write: `<receiver's phone number>|<text>`. There is no idempotency key: a repeat is a
 * second text. Each message keeps the `reference` it was sent with, which the connector's
 * reconciliation after a crash looks for. Checks: one receiver with `identifierKey: phonenumber` in
 * E.164, a non-empty text body.
 */

export interface BirdFakeState {
  messages: Record<string, unknown>[];
}

const E164 = /^\+[1-9]\d{6,14}$/;
const problem = (code: string, message: string, details?: Record<string, string[]>) => ({ code, message, ...(details ? { details } : {}) });

function sendProblem(body: Record<string, unknown>): Reply | undefined {
  const contacts = obj(body.receiver).contacts;
  const contact = Array.isArray(contacts) && contacts.length === 1 ? obj(contacts[0]) : undefined;
  if (!contact || contact.identifierKey !== 'phonenumber' || typeof contact.identifierValue !== 'string' || !E164.test(contact.identifierValue)) {
    return json(422, problem('InvalidPayload', 'The request payload is invalid', { 'receiver.contacts': ['must hold one phonenumber in E.164'] }), 'rejected');
  }
  const message = obj(body.body);
  const text = obj(message.text).text;
  if (message.type !== 'text' || typeof text !== 'string' || text === '') return json(422, problem('InvalidPayload', 'The request payload is invalid', { 'body.text.text': ['is required'] }), 'rejected');
  return undefined;
}

export function birdSpec(): ProviderSpec {
  const accessKey = alnum(40);
  const workspaceId = crypto.randomUUID();
  const channelId = crypto.randomUUID();
  const state: BirdFakeState = { messages: [] };
  const C = `^/workspaces/${workspaceId}/channels/${channelId}`;
  const receiverOf = (req: FakeRequest) => {
    const contacts = obj(obj(req.body).receiver).contacts;
    return String(Array.isArray(contacts) ? obj(contacts[0]).identifierValue : undefined);
  };

  return {
    id: 'bird',
    state,
    errorBody: (status) => problem(status === 404 ? 'NotFound' : 'InternalServerError', status === 404 ? 'The requested resource was not found' : 'Internal server error'),
    integration: () => ({ provider: 'bird', category: 'sms', auth: 'api-key', credentials: { accessKey }, settings: { workspaceId, channelId }, routes: { sms_welcome_enabled: true } }),
    baseUrl: (url) => url,
    authorize: (req) => (req.headers.authorization === `AccessKey ${accessKey}` ? undefined : json(401, problem('Unauthorized', 'The access key is not valid'), 'unauthorized')),
    routes: [
      {
        method: 'POST',
        path: new RegExp(`${C}/messages$`),
        kind: 'write',
        key: (req) => `${receiverOf(req)}|${String(obj(obj(obj(req.body).body).text).text)}`,
        handle(req) {
          const body = obj(req.body);
          const refused = sendProblem(body);
          if (refused) return refused;
          const at = new Date().toISOString();
          const message = {
            id: crypto.randomUUID(),
            channelId,
            sender: { connector: { id: crypto.randomUUID(), identifierValue: '+15005550006' } },
            receiver: { contacts: [{ id: crypto.randomUUID(), identifierKey: 'phonenumber', identifierValue: receiverOf(req), type: 'subscriber' }] },
            body: body.body,
            reference: typeof body.reference === 'string' ? body.reference : '',
            parts: [{ platformReference: crypto.randomUUID() }],
            status: 'accepted',
            reason: '',
            direction: 'outgoing',
            lastStatusAt: at,
            createdAt: at,
            updatedAt: at,
          };
          // Accepted now; by the next read it has been handed to the carrier.
          state.messages.unshift({ ...message, status: 'sent' });
          return json(202, message, 'applied');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${C}/messages$`),
        kind: 'read',
        handle(req) {
          const direction = req.query.get('direction');
          const limit = Number(req.query.get('limit') ?? 10);
          const results = state.messages.filter((m) => !direction || m.direction === direction).slice(0, limit);
          return json(200, { results, nextPageToken: '' }, 'read');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${C}/messages/([^/]+)$`),
        kind: 'read',
        handle(req) {
          const message = state.messages.find((m) => m.id === req.params[0]);
          return message ? json(200, message, 'read') : json(404, problem('NotFound', 'Message not found'), 'not_found');
        },
      },
      {
        method: 'GET',
        path: new RegExp(`${C}$`),
        kind: 'read',
        handle: () =>
          json(200, { id: channelId, name: 'Wedding texts', platformId: 'sms-messagebird', status: 'active', connectorId: crypto.randomUUID(), identifierKey: 'phonenumber', identifierValue: '+15005550006', createdAt: '2025-01-01T00:00:00Z' }, 'read'),
      },
    ],
  };
}
