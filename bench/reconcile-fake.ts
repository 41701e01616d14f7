/**
 * The loopback provider bench/reconcile.ts reads, in a process of its own so the benchmark's memory
 * figures are the reconciliation's, not the fake's 10,000 records. Started as
 *   tsx bench/reconcile-fake.ts <tave|mailchimp> <records> <missing-every> <renamed-every>
 * it seeds the provider's store with `records` couples c<i>@bench.test (every `missing-every`th left out,
 * every `renamed-every`th under another first name, changed long ago), prints one JSON line
 * {baseUrl, credentials, settings}, then answers commands on stdin, one JSON line each:
 *   edit <n>   a planner renames n couples now (their change shows in the next incremental read)
 *   calls      the requests received so far by kind
 */
import crypto from 'node:crypto';
import readline from 'node:readline';
import { startFakeProviders } from '../test/support/fake-providers';
import { couple } from './lib/couples';

const [provider, recordsArg, missingArg, renamedArg] = process.argv.slice(2);
if (provider !== 'tave' && provider !== 'mailchimp') throw new Error('usage: reconcile-fake.ts <tave|mailchimp> <records> <missing-every> <renamed-every>');
const records = Number(recordsArg);
const missingEvery = Number(missingArg);
const renamedEvery = Number(renamedArg);
const LONG_AGO = '2026-01-15T10:00:00.000Z';

async function main(): Promise<void> {
  const fakes = await startFakeProviders({ only: [provider as 'tave' | 'mailchimp'] });
  const fake = fakes.get(provider as 'tave' | 'mailchimp');
  const store = fake.store(provider === 'tave' ? 'contacts' : 'members');
  for (let i = 0; i < records; i++) {
    if (missingEvery > 0 && i % missingEvery === 0) continue;
    const c = couple(i);
    const first = renamedEvery > 0 && i % renamedEvery === 1 ? `Renamed${i}` : c.first;
    if (provider === 'tave') {
      const id = `01bench${String(i).padStart(19, '0')}`;
      store.set(id, { id, kind: 'person', email: c.email, firstName: first, lastName: c.last, cellPhone: { e164: c.phone }, modified: LONG_AGO, created: LONG_AGO });
    } else {
      const id = crypto.createHash('md5').update(c.email).digest('hex');
      const tags = c.completed ? ['wedsync-onboarded', 'tour-completed'] : [];
      store.set(id, { id, email_address: c.email, status: 'subscribed', merge_fields: { FNAME: first, LNAME: c.last }, tags, last_changed: LONG_AGO });
    }
  }
  const { credentials, settings } = fake.integration;
  process.stdout.write(`${JSON.stringify({ baseUrl: fake.deploymentBaseUrl, credentials, settings })}\n`);
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [command, arg] = line.trim().split(/\s+/);
    if (command === 'edit') {
      const ids = [...store.keys()].slice(0, Number(arg));
      for (const id of ids) {
        const r = store.get(id)!;
        if (provider === 'tave') r.firstName = `Edited${String(r.firstName)}`;
        else (r.merge_fields as Record<string, unknown>).FNAME = `Edited${String((r.merge_fields as Record<string, unknown>).FNAME)}`;
        fake.touch(provider === 'tave' ? 'contacts' : 'members', id);
      }
      process.stdout.write(`${JSON.stringify({ edited: ids.length })}\n`);
    } else if (command === 'calls') {
      const calls = fake.calls();
      process.stdout.write(`${JSON.stringify({ reads: calls.filter((c) => c.kind === 'read').length, writes: calls.filter((c) => c.kind === 'write').length })}\n`);
      fake.clearCalls();
    }
  });
  rl.on('close', () => void fakes.close().then(() => process.exit(0)));
}

void main();
