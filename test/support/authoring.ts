import crypto from 'node:crypto';
import request from 'supertest';
import type { OrgFixture } from './fixtures';
import { tokenFor, type Stack } from './stack';

/** Requests as one person of an organisation: the admin, or a member (made one first). */
export function as(stack: Stack, org: OrgFixture, who: 'admin' | string = 'admin') {
  const userId = who === 'admin' ? org.adminId : who;
  const token = () => tokenFor(stack, { orgId: org.orgId, userId, role: who === 'admin' ? 'admin' : 'member' });
  const send = async (method: 'get' | 'post' | 'put' | 'patch' | 'delete', url: string, body?: unknown) => {
    const req = request(stack.app)[method](url).set('Authorization', `Bearer ${await token()}`);
    return body === undefined ? req : req.send(body as object);
  };
  return {
    userId,
    get: (url: string) => send('get', url),
    post: (url: string, body: unknown = {}) => send('post', url, body),
    put: (url: string, body: unknown) => send('put', url, body),
    patch: (url: string, body: unknown) => send('patch', url, body),
    delete: (url: string) => send('delete', url),
  };
}

/** Steps as an admin writes them: `keys` in order, titled after their key. */
export function stepsOf(keys: string[], extra: (key: string, i: number) => Record<string, unknown> = () => ({})) {
  return keys.map((key, i) => ({ step_key: key, title: `Title of ${key}`, ...extra(key, i) }));
}

/** A new live tour made through the authoring API; returns its id. */
export async function publishedTour(stack: Stack, org: OrgFixture, body: { tour?: Record<string, unknown>; steps?: unknown[]; targeting?: Record<string, unknown> } = {}): Promise<string> {
  const key = `tour-${crypto.randomUUID().slice(0, 8)}`;
  const res = await as(stack, org).post('/api/tours/config', {
    tour: { tour_key: key, name: `Tour ${key}`, ...body.tour },
    steps: body.steps ?? stepsOf(['one', 'two', 'three']),
    ...(body.targeting ? { targeting: body.targeting } : {}),
    publish: true,
  });
  if (res.status !== 201) throw new Error(`could not create a tour: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.config.tour_id as string;
}

export function expectEnvelope(res: request.Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.details).toBeDefined();
}
