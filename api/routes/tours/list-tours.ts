import { z } from 'zod';
import { PROGRESS_STATUSES, type ProgressStatus } from '../../../domain/tour-state';
import { endpoint } from '../../endpoint';
import { canonicalUuid } from '../shared';
import { contextQuery } from './context';
import { AUDIENCES, presentTour, TourView, VariantView, WEDDING_PHASES } from './views';

const booleanString = z.enum(['true', 'false']).transform((v) => v === 'true');
// `?audience=couples,planners` and `?audience=couples&audience=planners` both work.
const audienceList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0))
  .pipe(z.array(z.enum(AUDIENCES)).max(AUDIENCES.length));

export const ListToursQuery = z.strictObject({
  audience: audienceList.optional().describe(`Comma-separated or repeated: ${AUDIENCES.join(', ')}`),
  wedding_phase: z.enum(WEDDING_PHASES).optional(),
  include_completed: booleanString.optional().describe('Also list tours the caller has finished'),
  context: contextQuery.optional(),
});

const TourListing = z.strictObject({
  ...TourView.shape,
  total_steps: z.number().int().min(0),
  progress: z
    .strictObject({
      progress_id: canonicalUuid(),
      status: z.enum(PROGRESS_STATUSES),
      completed_steps: z.array(z.number().int().min(0)),
      current_step_index: z.number().int().min(0),
    })
    .nullable()
    .describe("The caller's own progress, null before the first start"),
  ab_test_variant: VariantView,
});

export const listTours = endpoint({
  operationId: 'listTours',
  method: 'get',
  path: '/api/tours',
  tag: 'Tours',
  summary: "The live tours offered to the caller, with their progress",
  description:
    "A tour is offered to its audience and wedding phase (from the caller's member profile; an unknown fact does not filter), once its prerequisite tours are completed, when its show rule holds and its skip rule does not (against `context` and the profile). A tour the caller has started is always listed. `audience` and `wedding_phase` narrow the list further.",
  access: 'member',
  query: ListToursQuery,
  responses: {
    200: {
      description: 'Tours, by wedding phase and name',
      json: z.strictObject({ tours: z.array(TourListing), total: z.number().int().min(0), has_active_tour: z.boolean() }),
    },
  },
  errors: [],
}).handle(async ({ query, auth }, { tours }) => {
  const rows = await tours.list(auth, {
    ...(query.audience ? { audience: query.audience } : {}),
    ...(query.wedding_phase ? { weddingPhase: query.wedding_phase } : {}),
    includeCompleted: query.include_completed ?? false,
    context: query.context ?? {},
  });
  return {
    status: 200,
    body: {
      tours: rows.map(({ tour: row, variant }) => ({
        ...presentTour({ id: row.id, version: row.published_version, is_active: row.is_active, definition: row.definition }),
        total_steps: row.step_count,
        progress: row.progress_id
          ? {
              progress_id: row.progress_id,
              status: row.progress_status as ProgressStatus,
              completed_steps: row.progress_completed_steps ?? [],
              current_step_index: row.progress_current_step_index ?? 0,
            }
          : null,
        ab_test_variant: variant,
      })),
      total: rows.length,
      has_active_tour: rows.some((r) => r.tour.progress_status === 'in_progress'),
    },
  };
});
