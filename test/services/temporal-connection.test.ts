import { loadConfig } from '../../config';
import { temporalConnectionOptions } from '../../services/temporal-connection';

const files: Record<string, Buffer> = {
  '/certs/client.pem': Buffer.from('CLIENT CERT'),
  '/certs/client.key': Buffer.from('CLIENT KEY'),
  '/certs/ca.pem': Buffer.from('CA CERT'),
};
const readFile = (file: string) => {
  const content = files[file];
  if (!content) throw Object.assign(new Error(`ENOENT: no such file ${file}`), { code: 'ENOENT' });
  return content;
};

describe('temporalConnectionOptions', () => {
  it('is a plain connection to the address by default (the dev server on loopback)', () => {
    expect(temporalConnectionOptions(loadConfig({}), readFile)).toEqual({ address: '127.0.0.1:7233' });
  });

  it('connects with mutual TLS from the certificate variables, checking the name it is told', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CERT_PATH: '/certs/client.pem',
      TEMPORAL_TLS_KEY_PATH: '/certs/client.key',
      TEMPORAL_TLS_CA_PATH: '/certs/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
    });
    expect(temporalConnectionOptions(config, readFile)).toEqual({
      address: 'temporal.internal:7233',
      tls: {
        serverNameOverride: 'frontend.temporal.internal',
        serverRootCACertificate: files['/certs/ca.pem'],
        clientCertPair: { crt: files['/certs/client.pem'], key: files['/certs/client.key'] },
      },
    });
  });

  it('sends an API key over TLS with the system CAs (Temporal Cloud)', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'acme.a1b2c', TEMPORAL_API_KEY: 'the-api-key' });
    expect(temporalConnectionOptions(config, readFile)).toEqual({ address: 'acme.a1b2c.tmprl.cloud:7233', tls: true, apiKey: 'the-api-key' });
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_TLS: 'true' }), readFile)).toEqual({ address: '127.0.0.1:7233', tls: true });
  });

  it('names the variable whose file cannot be read, at start', () => {
    const config = loadConfig({ TEMPORAL_TLS_CERT_PATH: '/certs/missing.pem', TEMPORAL_TLS_KEY_PATH: '/certs/client.key' });
    expect(() => temporalConnectionOptions(config, readFile)).toThrow('TEMPORAL_TLS_CERT_PATH: cannot read /certs/missing.pem (ENOENT)');
  });
});
