/**
 * Records the history of a complete tour (start, moves, a rejected move, feedback, completion) for
 * the replay test. Run it against a dev server with a worker on the current code before changing
 * workflow logic, and commit the JSON:  npx tsx test/workflows/histories/record.ts <name> [address]
 * (`npm start` gives you both). Every recorded file must keep replaying after the change.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createTourWorkflows } from '../../../services/temporal';
import { loadConfig } from '../../../config';
import { DEMO } from '../../../db/seeds/demo';
import { tourWorkflowId } from '../../../workflows/search-attributes';

async function main(): Promise<void> {
  const [name, address] = process.argv.slice(2);
  if (!name) throw new Error('usage: record.ts <name> [temporal address]');
  const config = loadConfig({ ...process.env, ...(address ? { TEMPORAL_ADDRESS: address } : {}) });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const tours = createTourWorkflows(client, config);
  const key = { orgId: DEMO.orgId, userId: crypto.randomUUID(), tourId: DEMO.coupleTourId };
  await tours.start(key, { deviceType: 'mobile' }, 'recorded for the replay test');
  await tours.advance(key, { action: 'next_step', interactionTimeMs: 1200 }, '');
  await tours.advance(key, { action: 'skip_step' }, '');
  await tours.advance(key, { action: 'previous_step' }, '');
  await tours.advance(key, { action: 'next_step', expectedVersion: 1 }, '').catch(() => undefined);
  await tours.advance(key, { action: 'complete_tour', feedback: { rating: 5, wasHelpful: true } }, '');
  const handle = client.workflow.getHandle(tourWorkflowId(key.orgId, key.userId, key.tourId));
  await handle.result();
  const history = await handle.fetchHistory();
  const file = path.join(__dirname, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 1));
  process.stdout.write(`wrote ${file} (${history.events?.length} events)\n`);
  await connection.close();
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
