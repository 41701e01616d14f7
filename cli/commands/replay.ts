import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { canonicalUuid } from '../../api/ids';
import { ownerDatabaseUrl } from '../../config';
import { createDb } from '../../db/knex';
import { REPLAY_BATCH_LIMIT, replayDelivery, replayIntegration, type FailedReplay, type StartedReplay } from '../../services/replays';
import type { Refusal } from '../../services/result';
import { connectTemporal, createDeliveryReplays, WORKFLOW_SERVICE_ERROR_CODES, type DeliveryReplays } from '../../services/temporal';
import { loadConfigOrExit, resolveSecretBox } from '../runtime';

export const USAGE = `Usage: tourhub replay --delivery <delivery id>
       tourhub replay --integration <integration id> [--status dead]

Re-sends dead deliveries with their original idempotency key (a provider that did receive one sees a
duplicate it ignores). Only dead deliveries are replayed: a pending, retrying or running one would race
the call still owed. --delivery replays one dead delivery; --integration replays
that integration's dead deliveries, oldest first, at most ${REPLAY_BATCH_LIMIT} per run. Each replay runs as the
workflow delivery-replay:<delivery id>; its outcome lands in the delivery's row
(GET /api/integrations/deliveries). Uses DATABASE_URL (owner), TEMPORAL_ADDRESS and the keyring
(TOURHUB_SECRET_KEYS), which encrypts what is sent to Temporal.`;

export type ReplayArgs =
  | { kind: 'help' }
  | { kind: 'delivery'; deliveryId: string }
  | { kind: 'integration'; integrationId: string; status: 'dead' };

/** Ids in any case, canonical from here on (a replay's workflow id is built from the delivery id). */
const uuid = canonicalUuid();

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
    const deliveryId = uuid.safeParse(values.delivery);
    if (!deliveryId.success) return { ok: false, error: `--delivery must be a delivery id (a UUID), got "${values.delivery}"` };
    return { ok: true, args: { kind: 'delivery', deliveryId: deliveryId.data } };
  }
  if (values.integration !== undefined) {
    const integrationId = uuid.safeParse(values.integration);
    if (!integrationId.success) return { ok: false, error: `--integration must be an integration id (a UUID), got "${values.integration}"` };
    if (values.status !== undefined && values.status !== 'dead') {
      return { ok: false, error: `--status can only be "dead" (got "${values.status}"): only dead deliveries are replayed in bulk` };
    }
    return { ok: true, args: { kind: 'integration', integrationId: integrationId.data, status: 'dead' } };
  }
  return { ok: false, error: 'Say what to replay: --delivery <id> or --integration <id>' };
}

export interface ReplayIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * Replays with the owner connection (an operator sees every organisation): one line per replay
 * started, then a total. 0 when everything asked for started, 1 otherwise (a refusal is printed as
 * its message and code).
 */
export async function replay(deps: { db: Knex; replays: DeliveryReplays } & ReplayIo, args: Exclude<ReplayArgs, { kind: 'help' }>): Promise<number> {
  // A transaction per replay: the claim (dead -> pending) commits only with a started workflow.
  const service = { scope: <T>(fn: (db: Knex) => Promise<T>) => deps.db.transaction(fn), replays: deps.replays };
  let outcome: { started: StartedReplay[]; failed: FailedReplay[]; notReplayable: string[]; remaining?: number };
  if (args.kind === 'delivery') {
    const result = await replayDelivery(service, args.deliveryId);
    if (!result.ok) return refused(deps, result.refusal);
    outcome = { started: [result.value], failed: [], notReplayable: [] };
  } else {
    const result = await replayIntegration(service, args.integrationId, REPLAY_BATCH_LIMIT);
    if (!result.ok) return refused(deps, result.refusal);
    outcome = result.value;
  }
  for (const r of outcome.started) {
    deps.out(`started  delivery ${r.delivery_id}  ${r.provider} ${r.action} for ${r.event_type}  workflow ${r.workflow_id}`);
  }
  for (const f of outcome.failed) deps.err(`failed   delivery ${f.delivery_id}: ${f.error}`);
  for (const id of outcome.notReplayable) deps.err(`skipped  delivery ${id}: planned before calls were kept for replay`);
  deps.out(`${outcome.started.length} ${outcome.started.length === 1 ? 'replay' : 'replays'} started`);
  if (outcome.remaining !== undefined && outcome.remaining > 0) {
    deps.out(`${outcome.remaining} more dead deliveries: at most ${REPLAY_BATCH_LIMIT} start per run; run again once these have finished`);
  }
  return outcome.failed.length > 0 ? 1 : 0;
}

function refused(io: ReplayIo, refusal: Refusal): number {
  // Temporal's refusals come after the selection was accepted: say that nothing went out, so the operator retries.
  const unavailable = (WORKFLOW_SERVICE_ERROR_CODES as readonly string[]).includes(refusal.code);
  io.err(`${refusal.message} (${refusal.code})${unavailable ? '; nothing was started' : ''}`);
  return 1;
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
  const db = createDb(ownerDatabaseUrl(config), { poolMax: 5, applicationName: 'tourhub-replay' });
  try {
    // The replay's input goes through the payload codec like every other: the keyring is needed.
    const client = await connectTemporal(config, resolveSecretBox(config, { create: false }));
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
