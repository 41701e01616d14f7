import fs from 'node:fs';
import type { Config } from '../config';

/**
 * How every Connection (clients) and NativeConnection (workers) we make reaches Temporal: the address, and
 * for a cluster or Temporal Cloud, TLS (optionally mutual, with a client certificate) and an API key, all
 * from config (TEMPORAL_TLS*, TEMPORAL_API_KEY). Both connection kinds take exactly this shape.
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: boolean | { serverNameOverride?: string; serverRootCACertificate?: Uint8Array; clientCertPair?: { crt: Uint8Array; key: Uint8Array } };
  apiKey?: string;
}

/** Reads the certificate files now, so a wrong path stops the process at start with the variable's name. */
export function temporalConnectionOptions(config: Config, readFile: (file: string) => Buffer = (f) => fs.readFileSync(f)): TemporalConnectionOptions {
  const { address, tls, apiKey } = config.temporal;
  const read = (variable: string, file: string) => {
    try {
      return readFile(file);
    } catch (err) {
      throw new Error(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const options: TemporalConnectionOptions = { address };
  if (tls.enabled) {
    const custom = {
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls.caPath ? { serverRootCACertificate: read('TEMPORAL_TLS_CA_PATH', tls.caPath) } : {}),
      ...(tls.certPath && tls.keyPath
        ? { clientCertPair: { crt: read('TEMPORAL_TLS_CERT_PATH', tls.certPath), key: read('TEMPORAL_TLS_KEY_PATH', tls.keyPath) } }
        : {}),
    };
    options.tls = Object.keys(custom).length > 0 ? custom : true;
  }
  if (apiKey) options.apiKey = apiKey;
  return options;
}
