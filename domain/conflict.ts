/**
 * Two-way sync meets our writes and the planner's edits here: per field, a policy decides which side
 * wins when our record and the provider's disagree. Pure and deterministic: the reconciliation activity
 * feeds it three values per field (the last agreed one, ours, theirs) and acts on the decisions.
 *
 * Policies:
 * - `ours`: we always win (tour progress: the CRM's copy of it is a mirror, never an input);
 * - `theirs`: the provider always wins (a planner who moves the consultation in their calendar has
 *   decided; our default time does not come back). Where the provider has no value, ours fills the gap;
 * - `latest-wins`: the side that changed since the last agreement wins; if both did, the later source
 *   timestamp wins (a side without a timestamp loses to one with; a tie or none at all: ours);
 * - `manual`: the side that changed wins; if both changed to different values, a person decides
 *   (stored in sync_conflicts with both values, listed and resolved through the API).
 */

export type FieldPolicy = 'ours' | 'theirs' | 'latest-wins' | 'manual';
export const FIELD_POLICIES: readonly FieldPolicy[] = ['ours', 'theirs', 'latest-wins', 'manual'];

/** What a synced field holds: plain values only, so two sides compare with `===` after normalising. */
export type SyncValue = string | number | boolean | null;

export type SyncFields = Record<string, SyncValue>;

/** One side of a record: its fields (a field absent = this side has nothing to say about it) and when it last changed. */
export interface SyncSide {
  fields: SyncFields;
  /** ISO timestamp of the side's last change, as its source says (our row's updated_at, the provider's modified). */
  at: string | null;
}

export type FieldDecision =
  /** Both sides hold the same value: it becomes the agreed one. */
  | { kind: 'in_sync'; value: SyncValue }
  /** Ours goes to the provider, through a planned delivery. */
  | { kind: 'push'; value: SyncValue }
  /** Theirs becomes ours. */
  | { kind: 'accept'; value: SyncValue }
  /** Both changed and the policy is manual: stored for a person to resolve. */
  | { kind: 'conflict'; ours: SyncValue; theirs: SyncValue; base: SyncValue | undefined };

/** `''` and null mean the same thing ("no value") to every provider we read. */
function norm(v: SyncValue | undefined): SyncValue | undefined {
  if (v === '') return null;
  return typeof v === 'string' ? v.trim() : v;
}

export function sameValue(a: SyncValue | undefined, b: SyncValue | undefined): boolean {
  return norm(a) === norm(b);
}

const hasValue = (v: SyncValue | undefined) => norm(v) !== undefined && norm(v) !== null;

function later(a: string | null, b: string | null): 'a' | 'b' | 'tie' {
  const ta = a === null ? Number.NaN : Date.parse(a);
  const tb = b === null ? Number.NaN : Date.parse(b);
  if (Number.isNaN(ta) && Number.isNaN(tb)) return 'tie';
  if (Number.isNaN(tb)) return 'a';
  if (Number.isNaN(ta)) return 'b';
  return ta > tb ? 'a' : tb > ta ? 'b' : 'tie';
}

/**
 * One field. `base` is the value both sides last agreed on (undefined: never agreed); a side's value is
 * undefined when that side says nothing about the field (ours: nothing to compare or push; theirs: the
 * provider did not say, e.g. a deleted event carries only its status), null when it holds no value.
 * Returns undefined when there is nothing to decide.
 */
export function decideField(
  policy: FieldPolicy,
  values: { base: SyncValue | undefined; ours: SyncValue | undefined; theirs: SyncValue | undefined; oursAt: string | null; theirsAt: string | null },
): FieldDecision | undefined {
  const { base, ours, theirs } = values;
  if (ours === undefined || theirs === undefined) return undefined;
  if (sameValue(ours, theirs)) return { kind: 'in_sync', value: norm(ours) ?? null };
  // The provider never had a value: ours fills the gap. (A value it had and cleared is a change of its
  // own, judged by the policy like any other.)
  if (!hasValue(theirs) && (base === undefined || !hasValue(base))) return { kind: 'push', value: ours };
  const theirsValue = theirs;
  switch (policy) {
    case 'ours':
      return { kind: 'push', value: ours };
    case 'theirs':
      return { kind: 'accept', value: theirsValue };
    case 'latest-wins':
    case 'manual': {
      const oursChanged = base === undefined || !sameValue(ours, base);
      const theirsChanged = base === undefined || !sameValue(theirsValue, base);
      if (oursChanged && !theirsChanged) return { kind: 'push', value: ours };
      if (theirsChanged && !oursChanged) return { kind: 'accept', value: theirsValue };
      if (policy === 'manual') return { kind: 'conflict', ours, theirs: theirsValue, base };
      return later(values.oursAt, values.theirsAt) === 'b' ? { kind: 'accept', value: theirsValue } : { kind: 'push', value: ours };
    }
  }
}

export interface RecordDecision {
  /** Fields to send to the provider, with our values. */
  push: SyncFields;
  /** Fields whose value we take from the provider. */
  accept: SyncFields;
  /** Fields both sides hold alike. */
  inSync: SyncFields;
  conflicts: { field: string; ours: SyncValue; theirs: SyncValue; base: SyncValue | undefined }[];
  /** The provider has no such record at all: everything of ours is pushed. */
  missing: boolean;
}

/**
 * A whole record, field by field. `theirs` undefined means the provider has no such record; `base` is
 * what both sides last agreed on (per field), undefined when never synced.
 */
export function reconcileRecord(input: {
  policy: (field: string) => FieldPolicy;
  base: SyncFields | undefined;
  ours: SyncSide;
  theirs: SyncSide | undefined;
}): RecordDecision {
  const out: RecordDecision = { push: {}, accept: {}, inSync: {}, conflicts: [], missing: input.theirs === undefined };
  for (const [field, ours] of Object.entries(input.ours.fields)) {
    if (input.theirs === undefined) {
      out.push[field] = ours;
      continue;
    }
    const decision = decideField(input.policy(field), {
      base: input.base?.[field],
      ours,
      theirs: input.theirs.fields[field],
      oursAt: input.ours.at,
      theirsAt: input.theirs.at,
    });
    if (!decision) continue;
    switch (decision.kind) {
      case 'in_sync':
        out.inSync[field] = decision.value;
        break;
      case 'push':
        out.push[field] = decision.value;
        break;
      case 'accept':
        out.accept[field] = decision.value;
        break;
      case 'conflict':
        out.conflicts.push({ field, ours: decision.ours, theirs: decision.theirs, base: decision.base });
        break;
    }
  }
  return out;
}

/**
 * Fields that mirror tour progress (the CRM's custom fields, the email list's tour tags). Always ours:
 * progress only moves through the tour's workflow, so a provider's copy that differs is stale.
 */
export const PROGRESS_FIELD_PREFIXES = ['progress:', 'tag:'] as const;

/**
 * The documented defaults per provider. Fields not named fall back to the provider's `*`, then to
 * `manual` (a field nobody thought about is a person's call, not a silent overwrite).
 */
export const DEFAULT_POLICIES: Readonly<Record<string, Readonly<Record<string, FieldPolicy>>>> = {
  // The couple edits their own name in our app and the planner corrects it in the CRM: whoever did it
  // last is right. A phone number typed by either side is a person's call.
  tave: { first_name: 'latest-wins', last_name: 'latest-wins', phone: 'manual', '*': 'manual' },
  // A planner who moves, renames or cancels the consultation in their calendar wins over our default.
  'google-calendar': { start: 'theirs', end: 'theirs', summary: 'theirs', cancelled: 'theirs', '*': 'theirs' },
  'outlook-calendar': { start: 'theirs', end: 'theirs', summary: 'theirs', cancelled: 'theirs', '*': 'theirs' },
  // The planner's billing details win (name and phone are filled in only where Stripe has none); our
  // link from the customer to the couple is ours.
  stripe: { name: 'theirs', phone: 'theirs', user_id: 'ours', '*': 'manual' },
  mailchimp: { first_name: 'latest-wins', last_name: 'latest-wins', '*': 'manual' },
};

/** The policy of one field of one provider's records. Progress mirrors are always ours, whatever the table says. */
export function policyFor(provider: string, field: string): FieldPolicy {
  if (PROGRESS_FIELD_PREFIXES.some((p) => field.startsWith(p))) return 'ours';
  const table = DEFAULT_POLICIES[provider];
  return table?.[field] ?? table?.['*'] ?? 'manual';
}

/**
 * What a person may choose when resolving a manual conflict: keep ours, take theirs, or a value of their
 * own (which then goes to both sides).
 */
export type ResolutionChoice = 'ours' | 'theirs' | 'value';

/** The value a resolution settles on, and whether the provider must be sent it. */
export function resolution(conflict: { ours: SyncValue; theirs: SyncValue }, choice: ResolutionChoice, value?: SyncValue): { value: SyncValue; push: boolean; takeIntoOurs: boolean } {
  switch (choice) {
    case 'ours':
      return { value: conflict.ours, push: true, takeIntoOurs: false };
    case 'theirs':
      return { value: conflict.theirs, push: false, takeIntoOurs: true };
    case 'value':
      return { value: value ?? null, push: !sameValue(value ?? null, conflict.theirs), takeIntoOurs: !sameValue(value ?? null, conflict.ours) };
  }
}
