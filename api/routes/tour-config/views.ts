import { z } from 'zod';
import type { StepFields, TourFields } from '../../../db/repositories/tour-config';
import type { Condition } from '../../../domain/conditions';
import type { AttachedTest, ConfigChange, TourConfig } from '../../../services/tour-config';
import { named } from '../../openapi';
import { canonicalUuid, jsonObject } from '../shared';
import { AUDIENCES, POSITIONS, presentStep, StepView, TOUR_TYPES, WEDDING_PHASES } from '../tours/views';
import { VariantConfigInput } from '../ab-tests/views';

export const TourConfigParams = z.strictObject({ tourId: canonicalUuid() });

const KEY = /^[a-z0-9][a-z0-9_-]*$/;
/** A show or skip rule: any JSON object here; the rule language checks it (422 names what is wrong). */
const rule = jsonObject.describe('A rule in the rule language (docs/api.md#the-rule-language); {} always holds');

export const StepInput = z.strictObject({
  step_key: z.string().min(1).max(100).regex(KEY, 'lower-case letters, digits, _ and -').describe('Unique within the tour; a step keeps its id while its key stays'),
  title: z.string().trim().min(1).max(200),
  description: z.string().max(5000).nullable().optional(),
  target_element: z.string().max(200).nullable().optional().describe('CSS selector of the element the step points at'),
  content: jsonObject.optional(),
  position: z.enum(POSITIONS).optional(),
  offset: z.strictObject({ x: z.number(), y: z.number() }).optional(),
  backdrop_enabled: z.boolean().optional(),
  skip_enabled: z.boolean().optional(),
  wedding_tip: z.string().max(2000).nullable().optional(),
  pro_tip: z.string().max(2000).nullable().optional(),
  estimated_time_seconds: z.number().int().min(0).max(3600).optional(),
  show_conditions: rule.optional().describe('The step is in a person\'s run only when this holds'),
  skip_conditions: rule.optional().describe('The step is left out of a person\'s run when this holds'),
});

const TourInput = z.strictObject({
  tour_key: z.string().min(1).max(100).regex(KEY, 'lower-case letters, digits, _ and -').optional(),
  name: z.string().trim().min(1).max(100).optional(),
  description: z.string().max(5000).nullable().optional(),
  tour_type: z.enum(TOUR_TYPES).optional(),
  estimated_duration_minutes: z.number().int().min(1).max(600).optional(),
  inactivity_timeout_minutes: z.number().int().min(1).max(525_600).nullable().optional().describe('Inactivity after which a run is abandoned; null: the server default. Applies to runs under way at their next move'),
});

const TargetingInput = z.strictObject({
  audience: z.array(z.enum(AUDIENCES)).min(1).max(AUDIENCES.length).optional(),
  wedding_phase: z.enum(WEDDING_PHASES).optional(),
  prerequisites: z.array(canonicalUuid()).max(20).optional().describe('Tours of this organisation a person must have completed first'),
  show_conditions: rule.optional().describe('The tour is offered only when this holds'),
  skip_conditions: rule.optional().describe('The tour is not offered when this holds'),
});

const AbTestInput = z.strictObject({
  test_name: z.string().trim().min(1).max(100).optional(),
  description: z.string().max(2000).nullable().optional(),
  variant_a: VariantConfigInput,
  variant_b: VariantConfigInput,
  traffic_split: z.number().min(0).max(1).multipleOf(0.01).describe('Share of people given variant A, 0 to 1 in steps of 0.01'),
  start: z.boolean().optional().describe('Run it at once (409 if the tour has a running test); otherwise a draft'),
});

const changeFields = {
  tour: TourInput.optional(),
  steps: z.array(StepInput).max(100).optional().describe('The whole step list, in order: replaces the steps, or nothing changes'),
  targeting: TargetingInput.optional(),
  ab_test: AbTestInput.optional().describe('Attach a new A/B test of this tour (seed 000)'),
  publish: z.boolean().optional().describe('Publish the result as the next version in the same request'),
};

export const UpdateTourConfigBody = z.strictObject(changeFields).refine((b) => Object.keys(b).length > 0, { message: 'send at least one of tour, steps, targeting, ab_test, publish' });
export const CreateTourConfigBody = z.strictObject({ ...changeFields, tour: TourInput.required({ tour_key: true, name: true }) });

type ChangeBody = z.output<typeof UpdateTourConfigBody>;

/** The body as the service takes it: tour and targeting fields together, as tour_definitions holds them. */
export function changeOf(body: ChangeBody): ConfigChange {
  const t = body.targeting;
  const tour: TourFields = {
    ...(body.tour ?? {}),
    ...(t?.audience ? { target_audience: t.audience } : {}),
    ...(t?.wedding_phase ? { wedding_phase: t.wedding_phase } : {}),
    ...(t?.prerequisites ? { prerequisite_tours: t.prerequisites } : {}),
    ...(t?.show_conditions ? { show_conditions: t.show_conditions as Condition } : {}),
    ...(t?.skip_conditions ? { skip_conditions: t.skip_conditions as Condition } : {}),
  };
  return {
    ...(Object.keys(tour).length > 0 ? { tour } : {}),
    ...(body.steps ? { steps: body.steps as StepFields[] } : {}),
    ...(body.ab_test ? { abTest: body.ab_test as AttachedTest } : {}),
    ...(body.publish ? { publish: true } : {}),
  };
}

export const TourConfigView = named(
  'TourConfig',
  z.strictObject({
    tour_id: canonicalUuid(),
    tour_key: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    tour_type: z.enum(TOUR_TYPES),
    estimated_duration_minutes: z.number().int().positive(),
    inactivity_timeout_minutes: z.number().int().positive().nullable(),
    status: z.enum(['draft', 'published', 'unpublished']).describe('draft: never published; published: live; unpublished: taken down, its versions kept'),
    version: z.number().int().positive().nullable().describe('Null: the working copy; a number: that published version as it was frozen'),
    published_version: z.number().int().positive().nullable().describe('The latest published version'),
    has_unpublished_changes: z.boolean(),
    steps: z.array(StepView),
    targeting: z.strictObject({
      audience: z.array(z.enum(AUDIENCES)),
      wedding_phase: z.enum(WEDDING_PHASES),
      prerequisites: z.array(canonicalUuid()),
      show_conditions: jsonObject,
      skip_conditions: jsonObject,
    }),
    ab_test: z
      .strictObject({ test_id: canonicalUuid(), test_name: z.string(), status: z.literal('running'), traffic_split: z.number() })
      .nullable()
      .describe("The tour's running A/B test"),
  }),
);

export const TourConfigEnvelope = z.strictObject({ config: TourConfigView });

export function presentConfig(c: TourConfig): z.input<typeof TourConfigView> {
  const d = c.definition;
  return {
    tour_id: c.tour.id,
    tour_key: d.tour_key,
    name: d.name,
    description: d.description,
    tour_type: d.tour_type as (typeof TOUR_TYPES)[number],
    estimated_duration_minutes: d.estimated_duration_minutes,
    inactivity_timeout_minutes: d.inactivity_timeout_minutes,
    status: c.status,
    version: c.version,
    published_version: c.tour.published_version,
    has_unpublished_changes: c.hasUnpublishedChanges,
    steps: c.steps.map(presentStep),
    targeting: {
      audience: d.target_audience as (typeof AUDIENCES)[number][],
      wedding_phase: d.wedding_phase as (typeof WEDDING_PHASES)[number],
      prerequisites: d.prerequisite_tours,
      show_conditions: d.show_conditions as Record<string, unknown>,
      skip_conditions: d.skip_conditions as Record<string, unknown>,
    },
    ab_test: c.abTest ? { test_id: c.abTest.id, test_name: c.abTest.test_name, status: 'running', traffic_split: c.abTest.traffic_split } : null,
  };
}

/** The change's refusals: a bad step list, rules, prerequisites or test are refused whole. */
export { CHANGE_REFUSALS as CHANGE_ERRORS } from '../../../services/tour-config';
