import { createLogger, loadConfigOrExit, onShutdown, resolveSecretBox } from '../runtime';
import { startWorker } from '../services';

/** `tourhub worker`: runs tour workflows and their activities until SIGINT/SIGTERM. */
export async function run(): Promise<number> {
  const config = loadConfigOrExit();
  const logger = createLogger(config, 'tourhub-worker');
  const shutdown = onShutdown(logger);
  const box = resolveSecretBox(config, { create: false });
  const worker = await startWorker(config, logger, box);
  shutdown.add('worker', () => worker.stop());
  return new Promise<number>(() => undefined);
}
