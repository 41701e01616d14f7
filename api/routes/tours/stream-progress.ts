import { z } from 'zod';
import type { TransitionEvent } from '../../../db/repositories/analytics';
import type { ProgressUpdate } from '../../../services/progress-stream';
import { endpoint, refused } from '../../endpoint';
import { ProgressParams } from './get-progress';
import { presentProgress } from './views';

export const StreamHeaders = z.object({
  'last-event-id': z
    .string()
    .regex(/^\d{1,9}$/, 'the id of the last message received: a progress version')
    .transform(Number)
    .optional()
    .describe('Sent by EventSource when it reconnects: every version after it is sent, nothing before'),
});

/** One message: `id` is the progress version, `data` the state at it and the transitions' events since the last message. */
export function sseMessage(u: ProgressUpdate): string {
  const data = {
    progress: presentProgress(u.state),
    events: u.events.map((e: TransitionEvent) => ({
      version: e.version,
      type: e.type,
      step_index: e.step_index,
      step_key: e.step_key,
      timestamp: e.timestamp.toISOString(),
    })),
  };
  return `id: ${u.version}\nevent: progress\ndata: ${JSON.stringify(data)}\n\n`;
}

export const streamProgress = endpoint({
  operationId: 'streamProgress',
  method: 'get',
  path: '/api/tours/progress/{progressId}/stream',
  tag: 'Tours',
  summary: 'Live changes of a progress, from any device (Server-Sent Events)',
  description:
    "A `text/event-stream` of `progress` messages: `id` is the progress version, `data` is `{progress, events}`, the state at that version and the transitions' analytics events since the previous message. A new stream starts with the current state; a reconnect with `Last-Event-ID` gets every change after that version and nothing before. A change made through any API process arrives within a second (Postgres LISTEN/NOTIFY). Comment lines (`: heartbeat`) keep it open every `REALTIME_HEARTBEAT_INTERVAL`. Only the person taking the tour, or an admin of the organisation, may subscribe. Browsers' EventSource cannot send an Authorization header: use a fetch-based EventSource client.",
  access: 'member',
  params: ProgressParams,
  headers: StreamHeaders,
  responses: { 200: { description: 'The stream; it stays open until the client leaves', content: ['text/event-stream'] } },
  errors: ['not_found', 'realtime_unavailable'],
}).handle(async ({ params, headers, auth }, { progressStreams, realtimeHeartbeatMs }) => {
  const subscribed = await progressStreams.subscribe(auth, params.progressId.toLowerCase(), headers['last-event-id']);
  if (!subscribed.ok) return refused(subscribed.refusal);
  const subscription = subscribed.value;
  return {
    status: 200,
    stream: (res, req) =>
      new Promise<void>((resolve) => {
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-cache, no-transform',
          Connection: 'keep-alive',
          // Proxies that buffer (nginx) would hold the messages back.
          'X-Accel-Buffering': 'no',
        });
        // How long EventSource waits before reconnecting after the stream ends.
        res.write('retry: 1000\n\n');
        const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), realtimeHeartbeatMs);
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          clearInterval(heartbeat);
          subscription.stop();
          if (!res.writableEnded) res.end();
          resolve();
        };
        req.once('close', finish);
        res.once('error', finish);
        subscription.start((u) => res.write(sseMessage(u)), finish);
      }),
  };
});
