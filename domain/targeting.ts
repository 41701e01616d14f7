/**
 * Who is offered a tour, and which of its steps they take. Pure: the caller gathers the facts (the
 * member's profile, what the client says about the person, the tours they have completed, today's date
 * in their time zone) and these functions decide.
 *
 * A fact nobody knows is not held against anyone: a member with no audience is offered tours of every
 * audience, and one with no wedding date tours of every phase. Rules (domain/conditions.ts) see the
 * facts under the names in TargetingFacts, beside whatever the client and the profile's attributes add.
 */
import { evaluate, isEmptyCondition, type Condition } from './conditions';

export const AUDIENCES = ['couples', 'photographers', 'venues', 'planners', 'florists', 'caterers', 'all_suppliers'] as const;
export type Audience = (typeof AUDIENCES)[number];
export const WEDDING_PHASES = ['engagement', 'planning', 'final_month', 'wedding_week', 'post_wedding'] as const;
export type WeddingPhase = (typeof WEDDING_PHASES)[number];

/** Every audience but couples is a supplier; a tour for `all_suppliers` is offered to each of them. */
const SUPPLIERS: readonly Audience[] = ['photographers', 'venues', 'planners', 'florists', 'caterers', 'all_suppliers'];

/** The facts about a person that targeting reads by name (rules may read any key of the context). */
export interface TargetingFacts {
  audience?: Audience;
  /** YYYY-MM-DD. */
  wedding_date?: string;
  wedding_phase?: WeddingPhase;
  /** Whole days from today (in the member's time zone) to the wedding; negative after it. */
  days_until_wedding?: number;
  time_zone?: string;
  /** Ids of the tours this person has completed. */
  completed_tours: string[];
}

const DAY_MS = 86_400_000;

/** Whole days from `from` to `to`, both YYYY-MM-DD. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/**
 * The phase a wedding `daysUntil` away is in: the week of it (7 days or fewer), the final month (31 or
 * fewer), planning (within a year), engagement (further off); after the day, post-wedding.
 */
export function weddingPhaseFor(daysUntil: number): WeddingPhase {
  if (daysUntil < 0) return 'post_wedding';
  if (daysUntil <= 7) return 'wedding_week';
  if (daysUntil <= 31) return 'final_month';
  if (daysUntil <= 365) return 'planning';
  return 'engagement';
}

/** The named facts, from a profile and today's date (YYYY-MM-DD, in the member's zone). */
export function factsOf(profile: { audience?: Audience | null; weddingDate?: string | null; timeZone?: string | null }, completedTours: string[], today: string): TargetingFacts {
  const facts: TargetingFacts = { completed_tours: completedTours };
  if (profile.audience) facts.audience = profile.audience;
  if (profile.timeZone) facts.time_zone = profile.timeZone;
  if (profile.weddingDate) {
    const days = daysBetween(today, profile.weddingDate);
    facts.wedding_date = profile.weddingDate;
    facts.days_until_wedding = days;
    facts.wedding_phase = weddingPhaseFor(days);
  }
  return facts;
}

/**
 * What rules are evaluated against: the client's context, then the profile's attributes, then the named
 * facts. Later wins, so a client cannot claim another audience or phase than the profile holds.
 */
export function ruleContext(facts: TargetingFacts, attributes: Readonly<Record<string, unknown>>, client: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const named = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined));
  return { ...client, ...attributes, ...named };
}

export function audienceMatches(tourAudience: readonly string[], audience: Audience | undefined): boolean {
  if (!audience) return true;
  return tourAudience.includes(audience) || (tourAudience.includes('all_suppliers') && SUPPLIERS.includes(audience));
}

/** The prerequisites (tour ids) not yet completed, in the order the tour lists them. */
export function missingPrerequisites(prerequisites: readonly string[], completed: ReadonlySet<string>): string[] {
  return prerequisites.filter((id) => !completed.has(id));
}

export interface TourTargeting {
  target_audience: readonly string[];
  wedding_phase: string;
  prerequisite_tours: readonly string[];
  show_conditions: Condition;
  skip_conditions: Condition;
}

export type OfferDecision = { offered: true } | { offered: false; reason: 'audience' | 'wedding_phase' | 'prerequisites' | 'show_conditions' | 'skip_conditions' };

/** Whether `tour` is offered to the person `facts` and `context` describe. */
export function offer(tour: TourTargeting, facts: TargetingFacts, context: Readonly<Record<string, unknown>>): OfferDecision {
  if (!audienceMatches(tour.target_audience, facts.audience)) return { offered: false, reason: 'audience' };
  if (facts.wedding_phase && tour.wedding_phase !== facts.wedding_phase) return { offered: false, reason: 'wedding_phase' };
  if (missingPrerequisites(tour.prerequisite_tours, new Set(facts.completed_tours)).length > 0) return { offered: false, reason: 'prerequisites' };
  if (!evaluate(tour.show_conditions, context)) return { offered: false, reason: 'show_conditions' };
  if (!isEmptyCondition(tour.skip_conditions) && evaluate(tour.skip_conditions, context)) return { offered: false, reason: 'skip_conditions' };
  return { offered: true };
}

/**
 * The steps of one person's run: those whose show rule holds and whose skip rule does not, in order.
 * Decided once, when the run starts, and kept for the whole run (a later change of context or of the
 * rules does not move the steps under someone mid-tour).
 */
export function stepsForRun<S extends { step_key: string; show_conditions: Condition; skip_conditions: Condition }>(steps: readonly S[], context: Readonly<Record<string, unknown>>): S[] {
  return steps.filter((s) => evaluate(s.show_conditions, context) && (isEmptyCondition(s.skip_conditions) || !evaluate(s.skip_conditions, context)));
}
