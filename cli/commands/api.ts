import { createLogger, loadConfigOrExit, onShutdown, resolveJwtSecret, resolveSecretBox } from '../runtime';
import { startApi } from '../services';

/** `tourhub api`: the HTTP API alone, against DATABASE_URL (or DATABASE_APP_URL) and TEMPORAL_ADDRESS. */
export async function run(): Promise<number> {
  const config = loadConfigOrExit();
  const logger = createLogger(config, 'tourhub-api');
  const shutdown = onShutdown(logger);
  const api = await startApi(config, logger, resolveJwtSecret(config, { create: false }), resolveSecretBox(config, { create: false }));
  shutdown.add('api', () => api.stop());
  logger.info({ url: api.url }, 'API listening');
  return new Promise<number>(() => undefined);
}
