import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { quietRuntime, testConfig } from './stack';

export interface TemporalHandles {
  client: Client;
  /** For workers. */
  native: NativeConnection;
}

/** Connects a client and a worker connection to the suite's dev server for the whole file, and closes both. */
export function useTemporal(): TemporalHandles {
  const handles = {} as TemporalHandles;
  let connection: Connection | undefined;
  beforeAll(async () => {
    quietRuntime();
    const { address } = testConfig().temporal;
    connection = await Connection.connect({ address });
    handles.native = await NativeConnection.connect({ address });
    handles.client = new Client({ connection });
  });
  afterAll(async () => {
    await handles.native?.close();
    await connection?.close();
  });
  return handles;
}
