/**
 * `npm run bench:reconcile`: two-way sync's reconciliation of many contacts against a loopback provider
 * serving paged lists. See bench/README.md ("reconciliation") for what it measures and the latest figures.
 *
 * For each size and provider: an embedded Postgres holds an organisation with that many couples (member
 * row and tour progress each); a fake Mailchimp or Táve in its own process holds them too, one in a
 * hundred missing and one in a hundred renamed long ago. The sync activities then run in this process,
 * as the workflow calls them: a full pass (every page read once, every couple compared once in ordered
 * batches, pushes planned as sealed deliveries), then a planner renames 1% and an incremental pass reads
 * only those. Time per phase, pages and requests, and this process's memory (RSS and V8 heap, sampled
 * every 20 ms, as peak above the level before the pass) are reported; nothing is sent to the provider
 * (pushes are planned, not delivered: sending is the hub's delivery path, measured by bench/hub.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createConnectorFactory } from '../activities/connector-factory';
import { createPullActivities, createSyncActivities, type PulledPage } from '../activities/sync';
import { loadConfig } from '../config';
import { createOutboundGuard } from '../connectors/outbound';
import { registry } from '../connectors/registry';
import { startEmbeddedPostgres } from '../db/embedded';
import { createDb, type Db } from '../db/knex';
import { migrateLatest } from '../db/migrate';
import { pgDeliveryGuard } from '../db/repositories/deliveries';
import { insertIntegration } from '../db/repositories/integrations';
import { createSecretBox, parseKeyring } from '../db/secrets';
import { couple } from './lib/couples';
import { intOption, loadAverage, runBench, saveResults, UsageError, type Cleanups } from './lib/harness';
import { fmt, freePorts, log, REPO_ROOT, table } from './lib/stack';

interface Options {
  sizes: number[];
  providers: ('mailchimp' | 'tave')[];
  pageSize: number;
  compareBatch: number;
  save: boolean;
  keepData: boolean;
}

const USAGE = `Usage: npm run bench:reconcile -- [options]

  --sizes <n,n>        couples per run (default 1000,10000)
  --providers <p,p>    mailchimp, tave (default mailchimp,tave)
  --page-size <n>      SYNC_PAGE_SIZE: records asked per page (default 1000; Táve serves at most 100)
  --compare-batch <n>  SYNC_COMPARE_BATCH: records compared per step (default 500)
  --keep-data          keep the Postgres folder
  --no-save            do not write bench/results/reconcile-*.json`;

function parse(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '1000,10000' },
      providers: { type: 'string', default: 'mailchimp,tave' },
      'page-size': { type: 'string', default: '1000' },
      'compare-batch': { type: 'string', default: '500' },
      'keep-data': { type: 'boolean', default: false },
      'no-save': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const providers = values.providers.split(',').map((p) => p.trim());
  for (const p of providers) if (p !== 'mailchimp' && p !== 'tave') throw new UsageError(`--providers takes mailchimp and tave, got "${p}"`);
  return {
    sizes: values.sizes.split(',').map((n) => intOption('sizes', n.trim(), 10, 200_000)),
    providers: providers as Options['providers'],
    pageSize: intOption('page-size', values['page-size'], 10, 1000),
    compareBatch: intOption('compare-batch', values['compare-batch'], 10, 5000),
    save: !values['no-save'],
    keepData: values['keep-data'],
  };
}

/** The provider process: its first line says where it is; each command gets one line back. */
async function startFake(provider: string, records: number, cleanups: Cleanups) {
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(__dirname, 'reconcile-fake.ts'), provider, String(records), '100', '100'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanups.push(`fake ${provider}`, async () => {
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  lines.on('line', (l) => (waiting.length ? waiting.shift()!(l) : queue.push(l)));
  const next = () => new Promise<string>((resolve) => (queue.length ? resolve(queue.shift()!) : waiting.push(resolve)));
  const hello = JSON.parse(await next()) as { baseUrl: string; credentials: Record<string, unknown>; settings: Record<string, unknown> };
  return {
    ...hello,
    async command(line: string): Promise<Record<string, number>> {
      child.stdin!.write(`${line}\n`);
      return JSON.parse(await next());
    },
  };
}

/**
 * Peak memory above the level when sampling started (this process only): RSS and V8's heap every 20 ms
 * (garbage included), and, with --expose-gc, the heap still in use right after a collection at every
 * step (each page read, each batch compared): what a pass really holds on to.
 */
function memorySampler() {
  global.gc?.();
  const base = process.memoryUsage();
  const peak = { rss: base.rss, heapUsed: base.heapUsed, retained: base.heapUsed };
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  }, 20);
  return {
    /** After a step: collect, then note what is still held. */
    step() {
      if (!global.gc) return;
      global.gc();
      peak.retained = Math.max(peak.retained, process.memoryUsage().heapUsed);
    },
    stop() {
      clearInterval(timer);
      const m = process.memoryUsage();
      peak.rss = Math.max(peak.rss, m.rss);
      peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
      const mb = (n: number) => n / 2 ** 20;
      return {
        rssBeforeMb: mb(base.rss),
        rssPeakMb: mb(peak.rss),
        rssGrowthMb: mb(peak.rss - base.rss),
        heapBeforeMb: mb(base.heapUsed),
        heapPeakMb: mb(peak.heapUsed),
        heapGrowthMb: mb(peak.heapUsed - base.heapUsed),
        retainedGrowthMb: global.gc ? mb(peak.retained - base.heapUsed) : undefined,
      };
    },
  };
}

/** Our side: an organisation with `n` couples (member and progress each), and the integration of the fake. */
async function seed(db: Db, n: number, provider: string, fake: { credentials: Record<string, unknown>; settings: Record<string, unknown> }, box: ReturnType<typeof createSecretBox>) {
  const orgId = crypto.randomUUID();
  const tourId = crypto.randomUUID();
  await db('organizations').insert({ id: orgId, slug: `bench-${orgId.slice(0, 8)}`, name: 'Bench' });
  await db.raw(`INSERT INTO tour_definitions (id, organization_id, tour_key, name) VALUES (?, ?, 'welcome', 'Welcome')`, [tourId, orgId]);
  for (let start = 0; start < n; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - start) }, (_, k) => {
      const i = start + k;
      return { i, c: couple(i), userId: crypto.randomUUID() };
    });
    await db('organization_members').insert(batch.map(({ c, userId }) => ({ organization_id: orgId, user_id: userId, role: 'member', email: c.email, display_name: `${c.first} ${c.last}`, phone: c.phone })));
    await db('user_tour_progress').insert(
      batch.map(({ c, userId }) => ({
        user_id: userId,
        organization_id: orgId,
        tour_id: tourId,
        status: c.completed ? 'completed' : 'in_progress',
        total_steps: 5,
        version: 4,
        workflow_id: `tour:${orgId}:${userId}:${tourId}`,
        ...(c.completed ? { completed_at: new Date('2026-11-20T10:00:00Z') } : {}),
      })),
    );
  }
  const integrationId = crypto.randomUUID();
  const entry = registry.get(provider)!;
  await insertIntegration(db, box, {
    id: integrationId,
    organizationId: orgId,
    type: entry.category,
    provider,
    settings: { provider: fake.settings, field_mapping: {}, enabled_events: [] },
    credentials: fake.credentials,
    isActive: true,
  });
  return integrationId;
}

interface PassFigures {
  kind: 'full' | 'incremental';
  pullMs: number;
  compareMs: number;
  totalMs: number;
  pages: number;
  providerReads: number;
  pulled: number;
  compared: number;
  batches: number;
  pushes: number;
  accepted: number;
  conflicts: number;
  memory: ReturnType<ReturnType<typeof memorySampler>['stop']>;
}

async function run(opts: Options, cleanups: Cleanups, startedAt: Date): Promise<number> {
  const loadBefore = loadAverage();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tourhub-bench-reconcile-'));
  fs.chmodSync(dataDir, 0o755);
  cleanups.push('data folder', async () => {
    if (!opts.keepData) fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const [pgPort] = await freePorts(1);
  log(`embedded Postgres on ${pgPort}`);
  const pg = await startEmbeddedPostgres({ dir: path.join(dataDir, 'postgres'), port: pgPort!, user: 'bench', password: 'bench', database: 'bench', persistent: false });
  cleanups.push('postgres', () => pg.stop());
  const db = createDb(pg.url, { poolMax: 5 });
  cleanups.push('db', () => db.destroy());
  await migrateLatest(db);
  const box = createSecretBox(parseKeyring(`bench:${crypto.randomBytes(32).toString('base64')}`), 'bench');
  const config = loadConfig({ TOURHUB_ENV: 'test', SYNC_PAGE_SIZE: String(opts.pageSize), SYNC_COMPARE_BATCH: String(opts.compareBatch) });

  const results: { provider: string; size: number; passes: PassFigures[] }[] = [];
  for (const provider of opts.providers) {
    for (const size of opts.sizes) {
      log(`${provider}: ${size} couples`);
      const fake = await startFake(provider, size, cleanups);
      const outbound = createOutboundGuard({ baseUrls: { [provider]: fake.baseUrl }, allowedNetworks: ['127.0.0.1/32'] });
      cleanups.push(`outbound ${provider} ${size}`, () => outbound.close());
      const connectors = createConnectorFactory({ db, box, registry, timeoutMs: 30_000, outbound, refreshGrants: {}, guardFor: (row) => pgDeliveryGuard(db, row) });
      const sync = createSyncActivities({ db, box, registry, sync: config.sync, retry: config.hub.retry });
      const { pullChanges } = createPullActivities({ db, connectors, pageSize: config.sync.pageSize });
      const integrationId = await seed(db, size, provider, fake, box);
      await fake.command('calls');

      const pass = async (requests: { reason: string; full?: boolean }[]): Promise<PassFigures> => {
        const memory = memorySampler();
        const t0 = performance.now();
        const begun = await sync.beginSyncPass({ integrationId, requests });
        if (begun.kind !== 'run') throw new Error(`pass skipped: ${begun.why}`);
        let page: string | null = null;
        let cursor: string | null = null;
        let pages = 0;
        let pulled = 0;
        do {
          const res: PulledPage = await new MockActivityEnvironment().run(pullChanges, { integrationId, runId: begun.runId, cursor: begun.cursor, page, startedAt: begun.startedAt });
          pages++;
          pulled += res.records;
          page = res.page;
          cursor = res.cursor;
          memory.step();
        } while (page !== null);
        const t1 = performance.now();
        let after: { priority: number; key: string } | null = null;
        const totals = { compared: 0, batches: 0, pushes: 0, accepted: 0, conflicts: 0 };
        do {
          const batch = await sync.compareRecords({ integrationId, runId: begun.runId, full: begun.full, after });
          totals.batches++;
          totals.compared += batch.compared;
          totals.pushes += batch.planned.length;
          totals.accepted += batch.accepted;
          totals.conflicts += batch.conflicts;
          after = batch.after;
          memory.step();
        } while (after !== null);
        await sync.finishSyncPass({ runId: begun.runId, organizationId: begun.organizationId, integrationId, full: begun.full, cursor });
        const t2 = performance.now();
        const reads = (await fake.command('calls')).reads ?? 0;
        return { kind: begun.full ? 'full' : 'incremental', pullMs: t1 - t0, compareMs: t2 - t1, totalMs: t2 - t0, pages, providerReads: reads, pulled, ...totals, memory: memory.stop() };
      };

      const full = await pass([{ reason: 'bench', full: true }]);
      log(`  full pass: ${fmt(full.totalMs / 1000, 2)} s, ${full.pages} pages, ${full.compared} compared, heap +${fmt(full.memory.heapGrowthMb)} MB`);
      await fake.command(`edit ${Math.max(1, Math.round(size / 100))}`);
      const incremental = await pass([{ reason: 'bench' }]);
      log(`  incremental pass: ${fmt(incremental.totalMs / 1000, 2)} s, ${incremental.pulled} changed, ${incremental.compared} compared`);
      results.push({ provider, size, passes: [full, incremental] });
    }
  }

  const rows = [['provider, couples, pass', 'total s', 'read s', 'compare s', 'pages', 'provider reads', 'read', 'compared', 'batches', 'pushes planned', 'accepted', 'RSS peak MB (+growth)', 'heap peak MB (+growth)', 'heap held after GC, growth MB']];
  for (const r of results) {
    for (const p of r.passes) {
      rows.push([
        `${r.provider}, ${r.size}, ${p.kind}`,
        fmt(p.totalMs / 1000, 2),
        fmt(p.pullMs / 1000, 2),
        fmt(p.compareMs / 1000, 2),
        String(p.pages),
        String(p.providerReads),
        String(p.pulled),
        String(p.compared),
        String(p.batches),
        String(p.pushes),
        String(p.accepted),
        `${fmt(p.memory.rssPeakMb, 0)} (+${fmt(p.memory.rssGrowthMb, 0)})`,
        `${fmt(p.memory.heapPeakMb, 0)} (+${fmt(p.memory.heapGrowthMb, 0)})`,
        p.memory.retainedGrowthMb === undefined ? 'n/a (no --expose-gc)' : `+${fmt(p.memory.retainedGrowthMb, 1)}`,
      ]);
    }
  }
  process.stdout.write(`\n${table(rows)}\n\n`);
  process.stdout.write(
    `page size ${opts.pageSize} (Táve caps it at 100), compare batch ${opts.compareBatch}; ${os.availableParallelism()} cores, load average ${loadBefore} before / ${loadAverage()} after\n`,
  );
  if (opts.save) saveResults('reconcile', startedAt, { options: opts, results, loadBefore, loadAfter: loadAverage(), cpus: os.availableParallelism() });
  return 0;
}

runBench({ usage: USAGE, parse, onFirstSignal: 'stopping after this pass', run });
