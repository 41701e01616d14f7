import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { tourDataConverter } from '../../services/payload-codec';
import { quietRuntime, testConfig, testSecretBox } from './stack';

export interface TemporalHandles {
  /** Encrypts and decrypts payloads with the test keyring, as the API's client does. */
  client: Client;
  /** For workers. */
  native: NativeConnection;
  /** What every worker of the suite must be given, so it reads what the client sends. */
  dataConverter: DataConverter;
}

/**
 * Connects a client and a worker connection to the suite's dev server for the whole file, and closes both.
 * Payloads are encrypted with the test keyring, as in production.
 */
export function useTemporal(): TemporalHandles {
  const handles = {} as TemporalHandles;
  let connection: Connection | undefined;
  beforeAll(async () => {
    quietRuntime();
    const { address } = testConfig().temporal;
    connection = await Connection.connect({ address });
    handles.native = await NativeConnection.connect({ address });
    handles.dataConverter = tourDataConverter(testSecretBox());
    handles.client = new Client({ connection, dataConverter: handles.dataConverter });
  });
  afterAll(async () => {
    await handles.native?.close();
    await connection?.close();
  });
  return handles;
}
