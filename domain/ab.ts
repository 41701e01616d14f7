/**
 * A/B tests of a tour (seed 000's tour_ab_tests): their lifecycle, who gets which variant, and how a
 * variant changes the steps. Pure and synchronous.
 *
 * Assignment is a hash of the test id and the user id, so it needs no storage to be stable; it is stored
 * anyway on first exposure (tour_ab_assignments, under a hash of both ids) because a hash alone would
 * move people between variants when the traffic split changes.
 */
import { assertCanonicalUuids } from './ids';

export const VARIANTS = ['a', 'b'] as const;
export type Variant = (typeof VARIANTS)[number];

export const AB_TEST_STATUSES = ['draft', 'running', 'paused', 'completed', 'archived'] as const;
export type AbTestStatus = (typeof AB_TEST_STATUSES)[number];

/** What a test's primary metric counts as a conversion among those exposed: a completion, or a start. */
export const AB_METRICS = ['completion_rate', 'start_rate'] as const;
export type AbMetric = (typeof AB_METRICS)[number];

/**
 * The lifecycle: a draft starts running; a running test pauses (no new exposures) or completes; a paused
 * one runs again or completes; a completed one is archived. Nothing returns to draft, and a completed
 * test never runs again (its results would mix two periods).
 */
const TRANSITIONS: Record<AbTestStatus, readonly AbTestStatus[]> = {
  draft: ['running', 'archived'],
  running: ['paused', 'completed'],
  paused: ['running', 'completed'],
  completed: ['archived'],
  archived: [],
};

export function allowedTransitions(from: AbTestStatus): readonly AbTestStatus[] {
  return TRANSITIONS[from];
}

export function canTransition(from: AbTestStatus, to: AbTestStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * FNV-1a, 32 bits. Fast, portable (an analyst can recompute an assignment in SQL or Python) and, hashed
 * twice as below, evenly spread: the scheme GrowthBook's SDKs use for their v2 bucketing.
 */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Where a user falls in a test, uniform in [0, 1) with a resolution of 1/10000, from canonical ids. */
export function bucketOf(testId: string, userId: string): number {
  assertCanonicalUuids('bucketOf', { testId, userId });
  return (fnv1a32(String(fnv1a32(`${testId}:${userId}`))) % 10_000) / 10_000;
}

/** The variant a user gets under `trafficSplit` (the share given variant A, the control, as seed 000 has it). */
export function assignVariant(testId: string, userId: string, trafficSplit: number): Variant {
  return bucketOf(testId, userId) < trafficSplit ? 'a' : 'b';
}

/**
 * The step fields a variant may change. Not the key, order or whether a step can be skipped: those are
 * the tour's shape, which the workflow rules on and which both variants share.
 */
export const VARIANT_STEP_FIELDS = [
  'title', 'description', 'target_element', 'content', 'position', 'offset', 'backdrop_enabled', 'wedding_tip', 'pro_tip', 'estimated_time_seconds',
] as const;
export type VariantStepField = (typeof VARIANT_STEP_FIELDS)[number];

/** A variant's configuration: per step key, the fields it replaces (seed 000's `variant.steps[step_key]`). */
export interface VariantConfig {
  steps?: Record<string, Partial<Record<VariantStepField, unknown>>>;
}

/** Step keys a variant names that the tour does not have. */
export function unknownVariantSteps(config: VariantConfig, stepKeys: readonly string[]): string[] {
  return Object.keys(config.steps ?? {}).filter((k) => !stepKeys.includes(k));
}

/** The steps as the variant shows them: its fields merged into each step by key, the rest unchanged. */
export function mergeVariant<S extends { step_key: string }>(steps: readonly S[], config: VariantConfig | null | undefined): S[] {
  const overrides = config?.steps;
  if (!overrides) return [...steps];
  return steps.map((s) => {
    const o = overrides[s.step_key];
    if (!o) return s;
    const picked = Object.fromEntries(Object.entries(o).filter(([k]) => (VARIANT_STEP_FIELDS as readonly string[]).includes(k)));
    return { ...s, ...picked };
  });
}
