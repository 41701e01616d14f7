import { createLogger, loadConfigOrExit, onShutdown } from '../runtime';
import { startWorker } from '../services';

/** `tourhub worker`: runs tour workflows and their activities until SIGINT/SIGTERM. */
export async function run(): Promise<number> {
  const config = loadConfigOrExit();
  const logger = createLogger(config, 'tourhub-worker');
  const shutdown = onShutdown(logger);
  const worker = await startWorker(config, logger);
  shutdown.add('worker', () => worker.stop());
  return new Promise<number>(() => undefined);
}
