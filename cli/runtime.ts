import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { ConfigError, loadConfig, type Config } from '../config';
import { createSecretBox, generateKeyEntry, parseKeyring, type SecretBox } from '../db/secrets';

/** Loads the config or prints which variable is wrong and exits: nothing half-configured keeps running. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/** Keys whose values are secrets wherever they appear: headers, tokens, passwords, keys, credentials. */
export const SECRET_KEYS = [
  'authorization', 'Authorization', 'cookie', 'set-cookie', 'x-api-key', 'proxy-authorization',
  'password', 'passwd', 'secret', 'token', 'apiKey', 'api_key', 'authToken', 'auth_token',
  'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'idToken', 'id_token',
  'clientSecret', 'client_secret', 'privateKey', 'private_key', 'credentials',
] as const;

/** How deep a secret may sit in a logged object: `{ err: { config: { headers: { authorization } } } }` is four levels. */
const REDACT_DEPTH = 5;

/**
 * pino's redact paths for every secret key at the top and under up to REDACT_DEPTH objects (`*.*.password`):
 * pino matches paths, not names, so each depth is listed. Keys with a dash take bracket notation.
 */
export const REDACTED_PATHS: string[] = SECRET_KEYS.flatMap((key) => {
  const leaf = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  return Array.from({ length: REDACT_DEPTH + 1 }, (_, depth) => {
    const prefix = '*.'.repeat(depth);
    return leaf.startsWith('[') ? (depth === 0 ? leaf : `${prefix.slice(0, -1)}${leaf}`) : `${prefix}${leaf}`;
  });
});

/**
 * JSON lines for log shippers; for a person at a terminal (LOG_FORMAT=auto and stdout a TTY, or
 * LOG_FORMAT=pretty) one short coloured line per event. `out` replaces stdout (tests).
 */
export function createLogger(config: Config, name: string, out: { stream?: NodeJS.WritableStream; isTTY?: boolean } = {}): Logger {
  const stream = out.stream ?? process.stdout;
  const isTTY = out.isTTY ?? process.stdout.isTTY === true;
  const readable = config.logFormat === 'pretty' || (config.logFormat === 'auto' && isTTY);
  const destination: DestinationStream = readable
    ? pretty({
        destination: stream,
        // Synchronous, so the lines written just before process.exit (a failed start) are not lost.
        sync: true,
        colorize: isTTY,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      })
    : (stream as DestinationStream);
  return pino(
    {
      name,
      level: config.logLevel,
      // Belt and braces: whatever a log line carries, credentials never reach the output.
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * The HS256 secret: JWT_SECRET when set; otherwise (development only) a random one kept in the data
 * folder, so `tourhub token` and the running API agree without anyone choosing a secret.
 */
export function resolveJwtSecret(config: Config, opts: { create: boolean }): string | undefined {
  if (config.jwt.secret) return config.jwt.secret;
  if (config.jwt.jwksUrl) return undefined;
  if (config.env === 'production') throw new Error('JWT_SECRET or JWT_JWKS_URL must be set in production');
  if (fs.existsSync(config.jwt.secretFile)) return fs.readFileSync(config.jwt.secretFile, 'utf8').trim();
  if (!opts.create) {
    throw new Error(`No JWT secret yet: set JWT_SECRET, or run "npm start" once so ${config.jwt.secretFile} is created`);
  }
  fs.mkdirSync(path.dirname(config.jwt.secretFile), { recursive: true });
  const secret = crypto.randomBytes(48).toString('base64url');
  fs.writeFileSync(config.jwt.secretFile, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/**
 * The keyring that encrypts provider credentials: TOURHUB_SECRET_KEYS when set; otherwise (development
 * only) one generated into the data folder. The active key is TOURHUB_ACTIVE_SECRET_KEY or the last listed.
 */
export function resolveSecretBox(config: Config, opts: { create: boolean }): SecretBox {
  let spec = config.secrets.keyring;
  if (!spec) {
    if (config.env === 'production') throw new Error('TOURHUB_SECRET_KEYS must be set in production');
    if (!fs.existsSync(config.secrets.keyringFile)) {
      if (!opts.create) throw new Error(`No keyring yet: set TOURHUB_SECRET_KEYS, or run "npm start" once so ${config.secrets.keyringFile} is created`);
      fs.mkdirSync(path.dirname(config.secrets.keyringFile), { recursive: true });
      try {
        fs.writeFileSync(config.secrets.keyringFile, `${generateKeyEntry('dev1')}\n`, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    spec = fs.readFileSync(config.secrets.keyringFile, 'utf8').trim();
  }
  const keys = parseKeyring(spec);
  return createSecretBox(keys, config.secrets.activeKeyId ?? [...keys.keys()].at(-1)!);
}

/** Runs `stop` functions in reverse order of registration on SIGINT/SIGTERM, once. */
export function onShutdown(logger: Logger): { add(name: string, stop: () => Promise<unknown>): void; run(): Promise<void> } {
  const stops: { name: string; stop: () => Promise<unknown> }[] = [];
  let running: Promise<void> | undefined;
  const run = () =>
    (running ??= (async () => {
      for (const { name, stop } of stops.reverse()) {
        try {
          await stop();
        } catch (err) {
          logger.warn({ err, name }, 'error while stopping');
        }
      }
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'stopping');
      void run().then(() => process.exit(0));
    });
  }
  return { add: (name, stop) => stops.push({ name, stop }), run };
}
