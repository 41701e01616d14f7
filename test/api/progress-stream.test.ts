import type { ChildProcess } from 'node:child_process';
import request from 'supertest';
import { spawnApi } from '../support/api-process';
import { createOrg, type OrgFixture } from '../support/fixtures';
import { openSse, type SseClient } from '../support/sse';
import { startStack, tokenFor, type Stack } from '../support/stack';
import { killed } from '../support/worker-process';

let stack: Stack;
let second: { child: ChildProcess; url: string };
const streams: SseClient[] = [];

beforeAll(async () => {
  stack = await startStack({ config: { REALTIME_HEARTBEAT_INTERVAL: '200ms' } });
  // Another `tourhub api` process: its own pools, its own LISTEN connection, nothing shared in memory.
  second = await spawnApi(stack.config, { REALTIME_HEARTBEAT_INTERVAL: '200ms' });
}, 120_000);

afterAll(async () => {
  for (const s of streams) s.close();
  if (second) await killed(second.child, 'SIGTERM');
  await stack.close();
});

async function open(url: string, token: string, lastEventId?: string): Promise<SseClient> {
  const client = await openSse(url, { token, ...(lastEventId ? { lastEventId } : {}) });
  streams.push(client);
  return client;
}

const data = (m: { data: string }) => JSON.parse(m.data) as { progress: Record<string, unknown>; events: { version: number; type: string; step_key: string }[] };

describe('the progress stream (Server-Sent Events)', () => {
  let org: OrgFixture;
  let token: string;
  let progressId: string;

  const put = (body: object) => request(stack.app).put(`/api/tours/progress/${progressId}`).set('Authorization', `Bearer ${token}`).send(body);

  beforeAll(async () => {
    org = await createOrg(stack.ownerDb, { steps: 5 });
    token = await tokenFor(stack, { orgId: org.orgId, userId: org.memberId });
    const started = await request(stack.app).post(`/api/tours/${org.tourId}/start`).set('Authorization', `Bearer ${token}`).send({ device_type: 'mobile' });
    expect(started.status).toBe(201);
    progressId = started.body.progress_id;
  });

  it('brings a move made through one API process to a device listening on another within a second', async () => {
    const sse = await open(`${second.url}/api/tours/progress/${progressId}/stream`, token);
    expect(sse.status).toBe(200);
    expect(sse.contentType).toMatch(/^text\/event-stream/);
    const [first] = await sse.until((m) => m.length >= 1);
    expect(first).toMatchObject({ id: '1', event: 'progress' });
    expect(data(first!)).toMatchObject({ progress: { id: progressId, version: 1, current_step_index: 0 }, events: [] });

    const moved = await put({ action: 'next_step' });
    expect(moved.status).toBe(200);
    const answeredAt = Date.now();
    const messages = await sse.until((m) => m.some((x) => x.id === '2'), 1000);
    expect(Date.now() - answeredAt).toBeLessThan(1000);
    const two = messages.find((x) => x.id === '2')!;
    expect(data(two).progress).toMatchObject({ version: 2, current_step_index: 1, completed_steps: [0] });
    expect(data(two).events.map((e) => [e.version, e.type, e.step_key])).toEqual([
      [2, 'step_completed', 'step_0'],
      [2, 'step_viewed', 'step_1'],
    ]);
    // Heartbeats are comment lines, every REALTIME_HEARTBEAT_INTERVAL.
    await new Promise((r) => setTimeout(r, 450));
    expect(sse.comments.filter((c) => c.trim() === 'heartbeat').length).toBeGreaterThanOrEqual(1);
    sse.close();
  });

  it('gives a reconnect with Last-Event-ID every change it missed, and nothing it had', async () => {
    // The device went away after version 2; two moves happen meanwhile, through the first process.
    await put({ action: 'next_step' }).expect(200);
    await put({ action: 'skip_step' }).expect(200);
    const sse = await open(`${second.url}/api/tours/progress/${progressId}/stream`, token, '2');
    const messages = await sse.until((m) => m.some((x) => x.id === '4'));
    expect(messages.map((m) => m.id)).toEqual(['4']);
    expect(data(messages[0]!).progress).toMatchObject({ version: 4, current_step_index: 3, completed_steps: [0, 1], skipped_steps: [2] });
    expect(data(messages[0]!).events.map((e) => [e.version, e.type, e.step_key])).toEqual([
      [3, 'step_completed', 'step_1'],
      [3, 'step_viewed', 'step_2'],
      [4, 'step_skipped', 'step_2'],
      [4, 'step_viewed', 'step_3'],
    ]);
    // And it stays live: the next move arrives as version 5.
    await put({ action: 'previous_step' }).expect(200);
    const later = await sse.until((m) => m.some((x) => x.id === '5'));
    expect(data(later.find((x) => x.id === '5')!).events.map((e) => e.type)).toEqual(['step_viewed']);
    sse.close();
  });

  it('lets an admin of the organisation watch, on either process', async () => {
    const admin = await tokenFor(stack, { orgId: org.orgId, userId: org.adminId, role: 'admin' });
    const sse = await open(`${second.url}/api/tours/progress/${progressId}/stream`, admin);
    const [first] = await sse.until((m) => m.length >= 1);
    expect(data(first!).progress).toMatchObject({ id: progressId, user_id: org.memberId });
    sse.close();
  });

  it('answers someone else\'s progress with 404 and no stream, and a bad Last-Event-ID with 400', async () => {
    const otherMember = await tokenFor(stack, { orgId: org.orgId, userId: org.otherMemberId });
    const outsider = await createOrg(stack.ownerDb);
    const otherAdmin = await tokenFor(stack, { orgId: outsider.orgId, userId: outsider.adminId, role: 'admin' });
    for (const t of [otherMember, otherAdmin]) {
      const res = await request(stack.app).get(`/api/tours/progress/${progressId}/stream`).set('Authorization', `Bearer ${t}`);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
    }
    const bad = await request(stack.app).get(`/api/tours/progress/${progressId}/stream`).set('Authorization', `Bearer ${token}`).set('Last-Event-ID', 'latest');
    expect({ status: bad.status, code: bad.body.error?.code, path: bad.body.error?.details.issues[0].path }).toEqual({ status: 400, code: 'validation_error', path: 'last-event-id' });
    const unauthenticated = await request(stack.app).get(`/api/tours/progress/${progressId}/stream`);
    expect(unauthenticated.status).toBe(401);
  });
});
