import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** What a stream said, as it arrives: messages, comment lines, and whether it has ended. */
export interface SseClient {
  status: number;
  contentType: string | null;
  messages: EventSourceMessage[];
  comments: string[];
  ended: boolean;
  /** Resolves once `predicate` holds for the messages received (checked on each one); rejects after `timeoutMs`. */
  until(predicate: (messages: EventSourceMessage[]) => boolean, timeoutMs?: number): Promise<EventSourceMessage[]>;
  close(): void;
}

/**
 * A Server-Sent Events client over fetch, as a fetch-based EventSource in a browser would be (native
 * EventSource cannot send an Authorization header): it sends the token and, on a reconnect, Last-Event-ID.
 */
export async function openSse(url: string, opts: { token: string; lastEventId?: string }): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { Authorization: `Bearer ${opts.token}`, Accept: 'text/event-stream', ...(opts.lastEventId ? { 'Last-Event-ID': opts.lastEventId } : {}) },
    signal: abort.signal,
  });
  const waiters = new Set<() => void>();
  const client: SseClient = {
    status: res.status,
    contentType: res.headers.get('content-type'),
    messages: [],
    comments: [],
    ended: false,
    until(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(client.messages)) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(client.messages);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(client.messages)}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () => abort.abort(),
  };
  const parser = createParser({
    onEvent: (message) => {
      client.messages.push(message);
      for (const w of [...waiters]) w();
    },
    onComment: (comment) => {
      client.comments.push(comment);
    },
  });
  if (res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // aborted by close()
      } finally {
        client.ended = true;
      }
    })();
  }
  return client;
}
