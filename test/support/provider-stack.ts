import { NativeConnection, type Worker } from '@temporalio/worker';
import { startProviderWorkers } from '../../cli/services';
import type { SecretBox } from '../../db/secrets';
import { deploymentEnv, startFakeProviders, type FakeProviderId, type FakeProviders } from './fake-providers';
import { startStack, type Stack } from './stack';

export interface ProviderStack {
  stack: Stack;
  fakes: FakeProviders;
  /** Polls `fn` every 100 ms until it gives a value; the error names `what` and the fakes' state. */
  eventually<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs?: number): Promise<T>;
}

/**
 * The test stack (API and the tour queue's worker) plus the provider queues' workers as `tourhub worker`
 * runs them, with the given providers pointing at loopback fakes; set up before the file's tests and
 * torn down after. The returned object is filled in beforeAll.
 */
export function useProviderStack(opts: { providers: FakeProviderId[]; box: SecretBox; config?: Record<string, string> }): ProviderStack {
  const handle = {} as ProviderStack;
  let native: NativeConnection | undefined;
  let workers: Worker[] = [];
  let running: Promise<void>[] = [];
  beforeAll(async () => {
    handle.fakes = await startFakeProviders({ only: opts.providers });
    handle.stack = await startStack({ box: opts.box, config: { ...deploymentEnv(handle.fakes.list), ...opts.config } });
    native = await NativeConnection.connect({ address: handle.stack.config.temporal.address });
    workers = await startProviderWorkers({ config: handle.stack.config, db: handle.stack.workerDb, box: opts.box, connection: native });
    running = workers.map((w) => w.run());
  }, 120_000);
  afterAll(async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.all(running);
    await native?.close();
    await handle.stack?.close();
    await handle.fakes?.close();
  });
  handle.eventually = async (fn, what, timeoutMs = 45_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await fn();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${handle.fakes.summary()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return handle;
}
