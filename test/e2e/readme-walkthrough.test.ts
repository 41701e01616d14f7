import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { privateDevStack, type DevStackPorts } from '../support/dev-stack';
import { untilOutput } from '../support/worker-process';

/**
 * Runs `tourhub dev` as a user would (its own embedded Postgres and Temporal dev server, in a fresh
 * data folder) and then the README's walkthrough block exactly as written, with only the ports changed
 * so it cannot collide with a stack already running on this machine.
 */

const repo = path.resolve(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'tourhub.js');

let dataDir: string;
let env: NodeJS.ProcessEnv;
let ports: DevStackPorts;
let dev: ChildProcess | undefined;

function walkthroughScript(): string {
  const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
  const block = /<!-- walkthrough:start[^>]*-->\s*```bash\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!block) throw new Error('README has no walkthrough block');
  return block[1]!.replaceAll('localhost:3000', `localhost:${ports.api}`);
}

async function startDev(): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [bin, 'dev'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = await untilOutput(child, 'tourhub is running', 120_000);
  return { child, output };
}

function stopDev(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function bash(script: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: repo, env, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  ({ dataDir, ports, env } = await privateDevStack('tourhub-walkthrough-'));
  // The walkthrough runs twice within a minute below (12 progress updates of one couple); the seed's
  // 10 a minute would rightly refuse the second run's last two.
  env.RATE_LIMIT_PROGRESS_PER_MINUTE = '20';
});

afterAll(async () => {
  if (dev) await stopDev(dev);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the README walkthrough on a fresh `tourhub dev`', () => {
  it('takes the demo tour to completion, finds it by TourStatus, stops cleanly and keeps the data', async () => {
    const started = await startDev();
    dev = started.child;
    // The UI as the operator opens it: on localhost, the host the codec session's cookie and origin name.
    expect(started.output()).toContain(`http://localhost:${ports.ui}`);
    expect(started.output()).toContain(`http://localhost:${ports.api}/codec/session`);
    expect(started.output()).toContain('npx tourhub token --org demo --user c0000000-0000-4000-8000-000000000001');

    // The temporal CLI in the last line reads the server's address from the environment.
    const run = bash(`export TEMPORAL_ADDRESS=127.0.0.1:${ports.temporal}\n${walkthroughScript()}`);
    if (run.status !== 0) throw new Error(`walkthrough failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toContain('"has_active_tour"');
    expect(run.stdout).toContain('"tour_completed":true');
    expect(run.stdout).toContain('"celebration_trigger":true');
    expect(run.stdout).toContain('"code":"tour_already_finished"');
    // The tour is completed; its run stays Running while the check-in series is booked.
    expect(run.stdout).toMatch(/Running\s+tour:0e0d0000-0000-4000-8000-000000000001:c0000000-0000-4000-8000-000000000001:d0000000-0000-4000-8000-000000000001/);

    // The API reference on the running stack, as `curl localhost:3000/api/openapi.json` gets it, with every
    // operation the app declares (the same document test/api/openapi.test.ts checks route by route).
    const reference = (await (await fetch(`http://127.0.0.1:${ports.api}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(reference.openapi).toBe('3.1.0');
    expect(Object.keys(reference.paths)).toEqual(expect.arrayContaining(['/api/tours', '/api/tours/progress/{progressId}', '/api/integrations', '/api/webhooks/subscriptions', '/api/tours/config/{tourId}']));
    expect((await fetch(`http://127.0.0.1:${ports.api}/api/docs`)).status).toBe(200);

    // An operator reads the tour's encrypted input the way the UI does: the dev server's UI is pointed at
    // the API's codec endpoint, and a codec session started from an admin token decodes, from the UI's origin.
    const settings = (await (await fetch(`http://127.0.0.1:${ports.ui}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toBe(`http://localhost:${ports.api}/codec`);
    const admin = bash('npx tourhub token --org demo --user a0000000-0000-4000-8000-000000000001 --role admin').stdout.trim();
    const session = await fetch(`http://127.0.0.1:${ports.api}/codec/session`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(session.status).toBe(204);
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      // A client without the codec, on purpose: it reads what Temporal stores, as the UI does.
      const raw = new Client({ connection });
      const history = await raw.workflow.getHandle('tour:0e0d0000-0000-4000-8000-000000000001:c0000000-0000-4000-8000-000000000001:d0000000-0000-4000-8000-000000000001').fetchHistory();
      const [input] = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
      const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('base64');
      const sealed = { metadata: Object.fromEntries(Object.entries(input!.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(input!.data) };
      expect(Buffer.from(sealed.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
      const decoded = await fetch(`http://127.0.0.1:${ports.api}/codec/decode`, {
        method: 'POST',
        headers: { origin: `http://localhost:${ports.ui}`, cookie: session.headers.get('set-cookie')!.split(';')[0]!, 'content-type': 'application/json', 'x-namespace': 'default' },
        body: JSON.stringify({ payloads: [sealed] }),
      });
      expect(decoded.status).toBe(200);
      expect(decoded.headers.get('access-control-allow-origin')).toBe(`http://localhost:${ports.ui}`);
      const [plain] = ((await decoded.json()) as { payloads: { data: string }[] }).payloads;
      expect(JSON.parse(Buffer.from(plain!.data, 'base64').toString())).toMatchObject({ userId: 'c0000000-0000-4000-8000-000000000001' });
    } finally {
      await connection.close();
    }

    // Ctrl-C stops every child: the API, Postgres and Temporal ports all close.
    expect(await stopDev(dev)).toBe(0);
    dev = undefined;
    for (const port of Object.values(ports)) expect({ port, open: await portOpen(port) }).toEqual({ port, open: false });

    // A second start keeps the data: the tour is still completed, and the walkthrough runs again.
    dev = (await startDev()).child;
    const again = bash(walkthroughScript().split('# Find it')[0]!);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('"tour_completed":true');
    const versions = [...again.stdout.matchAll(/"version":(\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...versions)).toBeGreaterThan(7); // continued from the first run's versions
  }, 300_000);
});
