/**
 * `npm run bench:assignment`: CPU time to assign 100,000 users to an A/B test (domain/ab.ts: the hash of
 * test and user against the traffic split), the first time (cold, the JIT warming up) and the median of
 * five more runs over fresh users. Goal: under one second of CPU. Also prints the share in A against the
 * split, as a check that the timing measured real work. See bench/README.md.
 *
 *   npx tsx bench/assignment.ts [--users 100000] [--split 0.5]
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { assignVariant } from '../domain/ab';
import { median } from './lib/stats';

function run(users: readonly string[], testId: string, split: number): { cpuMs: number; wallMs: number; inA: number } {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let inA = 0;
  for (const u of users) if (assignVariant(testId, u, split) === 'a') inA++;
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, inA };
}

function main(): void {
  const { values } = parseArgs({ options: { users: { type: 'string', default: '100000' }, split: { type: 'string', default: '0.5' } } });
  const n = Number(values.users);
  const split = Number(values.split);
  const population = () => Array.from({ length: n }, () => crypto.randomUUID());
  const cold = run(population(), crypto.randomUUID(), split);
  const warm = Array.from({ length: 5 }, () => run(population(), crypto.randomUUID(), split));
  const warmCpu = median(warm.map((w) => w.cpuMs));
  const share = (r: { inA: number }) => (r.inA / n).toFixed(4);
  process.stdout.write(
    [
      '',
      `Assigning ${n.toLocaleString('en')} users at a traffic split of ${split}`,
      '',
      '| run | CPU ms | wall ms | share in A |',
      '| --- | ---: | ---: | ---: |',
      `| cold (first) | ${cold.cpuMs.toFixed(0)} | ${cold.wallMs.toFixed(0)} | ${share(cold)} |`,
      `| warm (median of 5) | ${warmCpu.toFixed(0)} | ${median(warm.map((w) => w.wallMs)).toFixed(0)} | ${warm.map(share).join(', ')} |`,
      '',
      `Goal "100,000 users in under a second of CPU": ${Math.max(cold.cpuMs, warmCpu) * (100_000 / n) < 1000 ? '**met**' : '**not met**'} (cold ${cold.cpuMs.toFixed(0)} ms, warm ${warmCpu.toFixed(0)} ms).`,
      `${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}.`,
      '',
    ].join('\n'),
  );
}

main();
