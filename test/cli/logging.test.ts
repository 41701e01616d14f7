import { PassThrough } from 'node:stream';
import { loadConfig } from '../../config';
import { createLogger } from '../../cli/runtime';
import { temporalLogger } from '../../worker';

/** A logger writing into a buffer, as `tourhub` would build it with LOG_FORMAT and a terminal or not. */
function capture(env: Record<string, string>, isTTY: boolean) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const logger = createLogger(loadConfig(env), 'tourhub', { stream, isTTY });
  return { logger, text: () => text };
}

// eslint-disable-next-line no-control-regex
const stripColours = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('createLogger', () => {
  it('writes one JSON object per line when stdout is not a terminal', () => {
    const { logger, text } = capture({}, false);
    logger.info({ port: 54329 }, 'embedded Postgres started');
    const line = JSON.parse(text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, name: 'tourhub', port: 54329, msg: 'embedded Postgres started' });
  });

  it('writes one readable line per event at a terminal: time, level, name, message, then the fields', () => {
    const { logger, text } = capture({}, true);
    logger.info({ port: 54329 }, 'embedded Postgres started');
    const out = stripColours(text());
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(tourhub\): embedded Postgres started \{"port":54329\}\n$/);
    expect(out).not.toContain('"level"');
    expect(out).not.toContain('hostname');
  });

  it('follows LOG_FORMAT over the terminal check either way', () => {
    const json = capture({ LOG_FORMAT: 'json' }, true);
    json.logger.warn('careful');
    expect(JSON.parse(json.text().trim())).toMatchObject({ level: 40, msg: 'careful' });

    const pretty = capture({ LOG_FORMAT: 'pretty' }, false);
    pretty.logger.warn('careful');
    // Not a terminal: readable, but no colour codes for a file to carry.
    expect(pretty.text()).toMatch(/^\[[\d:.]+\] WARN \(tourhub\): careful\n$/);
  });

  it('still redacts credentials in readable lines', () => {
    const { logger, text } = capture({ LOG_FORMAT: 'pretty' }, false);
    logger.info({ integration: { credentials: { apiKey: 'sk_live_123' } } }, 'saved');
    expect(text()).not.toContain('sk_live_123');
    expect(text()).toContain('[redacted]');
  });
});

describe('redaction', () => {
  it('removes every secret from a logged object, nested at any depth a log line reaches', () => {
    const { logger, text } = capture({}, false);
    const secrets = ['Bearer eyJ-the-token', 'sk_live_123', 'hunter2', 'rt-refresh', 'at-access', 'cookie-value', 'gocspx-client-secret', 'twilio-auth-token', 'mc-api-key-us1', 'top-secret', 'deep-five'];
    logger.warn(
      {
        req: { headers: { authorization: secrets[0], cookie: secrets[5], 'x-api-key': secrets[8] } },
        integration: { id: 'i-1', credentials: { apiKey: secrets[1], accountSid: 'AC1' } },
        err: { config: { headers: { Authorization: secrets[0] }, data: { client_secret: secrets[6] } } },
        oauth: { tokens: { access_token: secrets[4], refresh_token: secrets[3] }, refreshToken: secrets[3] },
        db: { password: secrets[2] },
        twilio: { authToken: secrets[7] },
        secret: secrets[9],
        a: { b: { c: { d: { e: { password: secrets[10] } } } } },
      },
      'everything at once',
    );
    const out = text();
    for (const secret of secrets) expect(out).not.toContain(secret);
    // What is not a secret stays readable.
    const line = JSON.parse(out.trim());
    expect(line).toMatchObject({ integration: { id: 'i-1', credentials: '[redacted]' }, msg: 'everything at once' });
  });

  it("applies to the Temporal SDK's lines too", () => {
    const { logger, text } = capture({}, false);
    temporalLogger(logger, 'WARN').warn('activity failed', { activity: { input: { credentials: { apiKey: 'sk_live_456' } } } });
    expect(text()).toContain('activity failed');
    expect(text()).not.toContain('sk_live_456');
  });
});

describe('temporalLogger (the SDK and core logs of the worker)', () => {
  it("drops the provider workers' expected 'No workflows registered' warning and keeps every other warning", () => {
    const { logger, text } = capture({}, false);
    const sdk = temporalLogger(logger, 'WARN');
    sdk.warn('No workflows registered, not polling for workflow tasks', { sdkComponent: 'worker', taskQueue: 'provider-tave' });
    sdk.warn('No workflows registered, not polling for workflow tasks', { sdkComponent: 'worker', taskQueue: 'provider-google-calendar' });
    expect(text()).toBe('');

    // On the tour queue the same words would mean the tour worker lost its workflows: that one is shown.
    sdk.warn('No workflows registered, not polling for workflow tasks', { sdkComponent: 'worker', taskQueue: 'tours' });
    sdk.warn('Worker failed to poll', { sdkComponent: 'worker', taskQueue: 'provider-tave' });
    sdk.error('Activity failed', { taskQueue: 'provider-tave' });
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, component: 'temporal-sdk', taskQueue: 'tours', msg: 'No workflows registered, not polling for workflow tasks' }),
      expect.objectContaining({ level: 40, component: 'temporal-sdk', taskQueue: 'provider-tave', msg: 'Worker failed to poll' }),
      expect.objectContaining({ level: 50, component: 'temporal-sdk', msg: 'Activity failed' }),
    ]);
  });

  it('passes on only entries at or above its level', () => {
    const { logger, text } = capture({ LOG_LEVEL: 'trace' }, false);
    const sdk = temporalLogger(logger, 'WARN');
    sdk.info('Worker state changed', { state: 'RUNNING' });
    sdk.debug('polling');
    expect(text()).toBe('');
  });
});
