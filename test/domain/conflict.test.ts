import fc from 'fast-check';
import { decideField, DEFAULT_POLICIES, policyFor, reconcileRecord, resolution, type FieldPolicy, type SyncValue } from '../../domain/conflict';

const EARLY = '2026-11-20T10:00:00.000Z';
const LATE = '2026-11-21T10:00:00.000Z';

const decide = (policy: FieldPolicy, base: SyncValue | undefined, ours: SyncValue | undefined, theirs: SyncValue | undefined, oursAt: string | null = EARLY, theirsAt: string | null = LATE) =>
  decideField(policy, { base, ours, theirs, oursAt, theirsAt });

describe('conflict policies (per field)', () => {
  it('agreeing sides are in sync under every policy, whatever changed, ignoring blank differences', () => {
    for (const policy of ['ours', 'theirs', 'latest-wins', 'manual'] as const) {
      expect(decide(policy, 'old', 'Ava', 'Ava')).toEqual({ kind: 'in_sync', value: 'Ava' });
      expect(decide(policy, undefined, ' Ava ', 'Ava')).toEqual({ kind: 'in_sync', value: 'Ava' });
      expect(decide(policy, 'x', '', null)).toEqual({ kind: 'in_sync', value: null });
    }
  });

  it('says nothing when ours has no value, or the provider did not say (a deleted event carries only its status)', () => {
    expect(decide('ours', 'a', undefined, 'b')).toBeUndefined();
    expect(decide('theirs', 'a', 'b', undefined)).toBeUndefined();
  });

  it('ours: pushes ours whenever the provider differs, even when only the provider changed (tour progress)', () => {
    expect(decide('ours', 'completed', 'completed', 'in progress')).toEqual({ kind: 'push', value: 'completed' });
    expect(decide('ours', 'a', 'b', 'c')).toEqual({ kind: 'push', value: 'b' });
  });

  it('theirs: takes the provider\'s value whenever it differs (a moved consultation), but fills a gap the provider never had', () => {
    expect(decide('theirs', '2026-11-26T19:00:00Z', '2026-11-26T19:00:00Z', '2026-11-27T15:00:00Z')).toEqual({ kind: 'accept', value: '2026-11-27T15:00:00Z' });
    expect(decide('theirs', 'a', 'b', 'c')).toEqual({ kind: 'accept', value: 'c' });
    expect(decide('theirs', undefined, 'Ava Reed', null)).toEqual({ kind: 'push', value: 'Ava Reed' });
    // A value the provider had and cleared is its decision.
    expect(decide('theirs', 'Ava Reed', 'Ava Reed', null)).toEqual({ kind: 'accept', value: null });
  });

  it('latest-wins: the side that changed since the last agreement wins; if both did, the later source timestamp', () => {
    expect(decide('latest-wins', 'Ava', 'Avery', 'Ava')).toEqual({ kind: 'push', value: 'Avery' });
    expect(decide('latest-wins', 'Ava', 'Ava', 'Eva')).toEqual({ kind: 'accept', value: 'Eva' });
    expect(decide('latest-wins', 'Ava', 'Avery', 'Eva', EARLY, LATE)).toEqual({ kind: 'accept', value: 'Eva' });
    expect(decide('latest-wins', 'Ava', 'Avery', 'Eva', LATE, EARLY)).toEqual({ kind: 'push', value: 'Avery' });
    // Never agreed: both count as changed.
    expect(decide('latest-wins', undefined, 'Avery', 'Eva', LATE, EARLY)).toEqual({ kind: 'push', value: 'Avery' });
  });

  it('latest-wins: a side without a timestamp loses to one with; a tie, or none at all, goes to ours', () => {
    expect(decide('latest-wins', 'Ava', 'Avery', 'Eva', null, EARLY)).toEqual({ kind: 'accept', value: 'Eva' });
    expect(decide('latest-wins', 'Ava', 'Avery', 'Eva', EARLY, null)).toEqual({ kind: 'push', value: 'Avery' });
    expect(decide('latest-wins', 'Ava', 'Avery', 'Eva', EARLY, EARLY)).toEqual({ kind: 'push', value: 'Avery' });
    expect(decide('latest-wins', 'Ava', 'Avery', 'Eva', null, null)).toEqual({ kind: 'push', value: 'Avery' });
  });

  it('manual: one side changed wins as it would anyway; both changed to different values is a conflict with both values', () => {
    expect(decide('manual', '+15550001', '+15550002', '+15550001')).toEqual({ kind: 'push', value: '+15550002' });
    expect(decide('manual', '+15550001', '+15550001', '+15550003')).toEqual({ kind: 'accept', value: '+15550003' });
    expect(decide('manual', '+15550001', '+15550002', '+15550003')).toEqual({ kind: 'conflict', ours: '+15550002', theirs: '+15550003', base: '+15550001' });
    expect(decide('manual', undefined, '+15550002', '+15550003')).toEqual({ kind: 'conflict', ours: '+15550002', theirs: '+15550003', base: undefined });
    // A field the provider never had is filled, not argued about.
    expect(decide('manual', undefined, '+15550002', null)).toEqual({ kind: 'push', value: '+15550002' });
  });

  it('never pushes a value the provider already holds, and never accepts one ours already holds (property)', () => {
    const value = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(fc.constantFrom<FieldPolicy>('ours', 'theirs', 'latest-wins', 'manual'), fc.option(value, { nil: undefined }), value, value, (policy, base, ours, theirs) => {
        const d = decide(policy, base, ours, theirs);
        if (!d) return true;
        if (d.kind === 'push') return d.value === ours;
        if (d.kind === 'accept') return d.value === theirs;
        return true;
      }),
    );
  });
});

describe('a record', () => {
  const policy = (f: string) => policyFor('tave', f);

  it('splits its fields into pushes, accepts, agreements and conflicts by each field\'s policy', () => {
    const d = reconcileRecord({
      policy,
      base: { first_name: 'Ava', last_name: 'Reed', phone: '+15550001', 'progress:tour name': 'Welcome' },
      ours: { fields: { first_name: 'Ava', last_name: 'Reed-Hart', phone: '+15550002', 'progress:tour name': 'Welcome' }, at: EARLY },
      theirs: { fields: { first_name: 'Eva', last_name: 'Reed', phone: '+15550003', 'progress:tour name': 'Old name' }, at: LATE },
    });
    expect(d).toEqual({
      push: { last_name: 'Reed-Hart', 'progress:tour name': 'Welcome' },
      accept: { first_name: 'Eva' },
      inSync: {},
      conflicts: [{ field: 'phone', ours: '+15550002', theirs: '+15550003', base: '+15550001' }],
      missing: false,
    });
  });

  it('a record the provider lacks gets all of ours', () => {
    const d = reconcileRecord({ policy, base: undefined, ours: { fields: { first_name: 'Ava', phone: null }, at: EARLY }, theirs: undefined });
    expect(d).toEqual({ push: { first_name: 'Ava', phone: null }, accept: {}, inSync: {}, conflicts: [], missing: true });
  });
});

describe('the documented defaults', () => {
  it('a planner moving or cancelling the consultation in their calendar wins over our default', () => {
    for (const provider of ['google-calendar', 'outlook-calendar']) {
      expect(['start', 'end', 'summary', 'cancelled'].map((f) => policyFor(provider, f))).toEqual(['theirs', 'theirs', 'theirs', 'theirs']);
    }
  });

  it('tour progress is always ours, for every provider, whatever a table says', () => {
    for (const provider of [...Object.keys(DEFAULT_POLICIES), 'honeybook', 'unknown-provider']) {
      expect(policyFor(provider, 'progress:tour_completed_at')).toBe('ours');
      expect(policyFor(provider, 'tag:tour-completed')).toBe('ours');
    }
  });

  it('names and phones in the CRM and email list, billing details in Stripe, and a field nobody named is a person\'s call', () => {
    expect(policyFor('tave', 'first_name')).toBe('latest-wins');
    expect(policyFor('tave', 'phone')).toBe('manual');
    expect(policyFor('mailchimp', 'last_name')).toBe('latest-wins');
    expect(policyFor('stripe', 'name')).toBe('theirs');
    expect(policyFor('stripe', 'user_id')).toBe('ours');
    expect(policyFor('tave', 'anniversary')).toBe('manual');
    expect(policyFor('unknown-provider', 'anything')).toBe('manual');
  });
});

describe('resolving a manual conflict', () => {
  const conflict = { ours: '+15550002', theirs: '+15550003' };

  it('ours goes to the provider; theirs becomes ours and sends nothing; a value of one\'s own goes wherever it differs', () => {
    expect(resolution(conflict, 'ours')).toEqual({ value: '+15550002', push: true, takeIntoOurs: false });
    expect(resolution(conflict, 'theirs')).toEqual({ value: '+15550003', push: false, takeIntoOurs: true });
    expect(resolution(conflict, 'value', '+15550009')).toEqual({ value: '+15550009', push: true, takeIntoOurs: true });
    expect(resolution(conflict, 'value', '+15550003')).toEqual({ value: '+15550003', push: false, takeIntoOurs: true });
    expect(resolution(conflict, 'value', '+15550002')).toEqual({ value: '+15550002', push: true, takeIntoOurs: false });
  });
});
