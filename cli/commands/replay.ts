import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { z } from 'zod';
import { ApiError } from '../../api/middleware/errors';
import { REPLAY_BATCH_LIMIT, selectDeliveryReplay, selectIntegrationReplays, startReplays } from '../../api/replays';
import { connectTemporal, createDeliveryReplays, type DeliveryReplays } from '../../api/temporal';
import { ownerDatabaseUrl } from '../../config';
import { createDb } from '../../db/knex';
import { loadConfigOrExit } from '../runtime';

export const USAGE = `Usage: tourhub replay --delivery <delivery id>
       tourhub replay --integration <integration id> [--status dead]

Re-sends dead deliveries with their original idempotency key (a provider that did receive one sees a
duplicate it ignores). --delivery replays one delivery (any status but succeeded); --integration replays
that integration's dead deliveries, oldest first, at most ${REPLAY_BATCH_LIMIT} per run. Each replay runs as the
workflow delivery-replay:<delivery id>; its outcome lands in the delivery's row
(GET /api/integrations/deliveries). Uses DATABASE_URL (owner) and TEMPORAL_ADDRESS.`;

export type ReplayArgs =
  | { kind: 'help' }
  | { kind: 'delivery'; deliveryId: string }
  | { kind: 'integration'; integrationId: string; status: 'dead' };

const uuid = z.uuid();

/** Pure: what to replay, or the message that says what is wrong with the arguments (exit 2). */
export function parseReplayArgs(argv: string[]): { ok: true; args: ReplayArgs } | { ok: false; error: string } {
  let values: { delivery?: string; integration?: string; status?: string; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: { delivery: { type: 'string' }, integration: { type: 'string' }, status: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (values.help) return { ok: true, args: { kind: 'help' } };
  if (values.delivery !== undefined && values.integration !== undefined) {
    return { ok: false, error: 'Give either --delivery or --integration, not both' };
  }
  if (values.delivery !== undefined) {
    if (values.status !== undefined) return { ok: false, error: '--status goes with --integration; --delivery replays that one delivery' };
    if (!uuid.safeParse(values.delivery).success) return { ok: false, error: `--delivery must be a delivery id (a UUID), got "${values.delivery}"` };
    return { ok: true, args: { kind: 'delivery', deliveryId: values.delivery } };
  }
  if (values.integration !== undefined) {
    if (!uuid.safeParse(values.integration).success) return { ok: false, error: `--integration must be an integration id (a UUID), got "${values.integration}"` };
    if (values.status !== undefined && values.status !== 'dead') {
      return { ok: false, error: `--status can only be "dead" (got "${values.status}"): only dead deliveries are replayed in bulk` };
    }
    return { ok: true, args: { kind: 'integration', integrationId: values.integration, status: 'dead' } };
  }
  return { ok: false, error: 'Say what to replay: --delivery <id> or --integration <id>' };
}

export interface ReplayIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * Selects with the owner connection (an operator sees every organisation) and starts the replays: one
 * line per replay started, then a total. 0 when everything asked for started, 1 otherwise.
 */
export async function replay(deps: { db: Knex; replays: DeliveryReplays } & ReplayIo, args: Exclude<ReplayArgs, { kind: 'help' }>): Promise<number> {
  let selection;
  try {
    selection =
      args.kind === 'delivery'
        ? { candidates: [await selectDeliveryReplay(deps.db, args.deliveryId)], deadTotal: undefined, notReplayable: [] as string[] }
        : await selectIntegrationReplays(deps.db, args.integrationId, REPLAY_BATCH_LIMIT);
  } catch (err) {
    if (err instanceof ApiError) {
      deps.err(`${err.message} (${err.code})`);
      return 1;
    }
    throw err;
  }
  let result;
  try {
    result = await startReplays(deps.replays, selection.candidates);
  } catch (err) {
    if (err instanceof ApiError) {
      deps.err(`${err.message} (${err.code}); nothing was started`);
      return 1;
    }
    throw err;
  }
  for (const r of result.started) {
    deps.out(`started  delivery ${r.delivery_id}  ${r.provider} ${r.action} for ${r.event_type}  workflow ${r.workflow_id}`);
  }
  for (const f of result.failed) deps.err(`failed   delivery ${f.delivery_id}: ${f.error}`);
  for (const id of selection.notReplayable) deps.err(`skipped  delivery ${id}: planned before calls were kept for replay`);
  deps.out(`${result.started.length} ${result.started.length === 1 ? 'replay' : 'replays'} started`);
  if (selection.deadTotal !== undefined) {
    const left = selection.deadTotal - selection.candidates.length - selection.notReplayable.length;
    if (left > 0) deps.out(`${left} more dead deliveries: at most ${REPLAY_BATCH_LIMIT} start per run; run again once these have finished`);
  }
  return result.failed.length > 0 ? 1 : 0;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseReplayArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`tourhub replay: ${parsed.error}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.args.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfigOrExit();
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 2, applicationName: 'tourhub-replay' });
  try {
    const client = await connectTemporal(config);
    try {
      return await replay(
        {
          db,
          replays: createDeliveryReplays(client, config),
          out: (line) => process.stdout.write(`${line}\n`),
          err: (line) => process.stderr.write(`${line}\n`),
        },
        parsed.args,
      );
    } finally {
      await client.connection.close();
    }
  } finally {
    await db.destroy();
  }
}
