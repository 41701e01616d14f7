import { z } from 'zod';
import { DEVICE_TYPES, TOUR_ACTIONS } from '../../domain/tour-state';

// Strict everywhere: an unknown field is a client bug worth telling about, not something to drop silently.

export const AUDIENCES = ['couples', 'photographers', 'venues', 'planners', 'florists', 'caterers', 'all_suppliers'] as const;
export const WEDDING_PHASES = ['engagement', 'planning', 'final_month', 'wedding_week', 'post_wedding'] as const;

export const idParams = z.strictObject({ id: z.uuid({ message: 'must be a UUID' }) });
export const progressParams = z.strictObject({ progressId: z.uuid({ message: 'must be a UUID' }) });

const booleanString = z.enum(['true', 'false']).transform((v) => v === 'true');
// `?audience=couples,planners` and `?audience=couples&audience=planners` both work.
const audienceList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0))
  .pipe(z.array(z.enum(AUDIENCES)).max(AUDIENCES.length));

export const listToursQuery = z.strictObject({
  audience: audienceList.optional(),
  wedding_phase: z.enum(WEDDING_PHASES).optional(),
  include_completed: booleanString.optional(),
});

const viewport = z.strictObject({
  width: z.number().int().positive().max(100_000),
  height: z.number().int().positive().max(100_000),
});

export const startTourBody = z.strictObject({
  device_type: z.enum(DEVICE_TYPES).optional(),
  viewport_size: viewport.optional(),
  /** Take a finished tour again from its first step. */
  restart: z.boolean().optional(),
});

export const updateProgressBody = z.strictObject({
  action: z.enum(TOUR_ACTIONS),
  step_index: z.number().int().min(0).optional(),
  step_key: z.string().min(1).max(100).optional(),
  interaction_time_ms: z.number().int().min(0).max(24 * 3600 * 1000).optional(),
  user_feedback: z
    .strictObject({
      rating: z.number().int().min(1).max(5).optional(),
      feedback: z.string().max(5000).optional(),
      was_helpful: z.boolean().optional(),
    })
    .optional(),
  /** The progress version the client last saw; a stale one gets 409 with the current progress. */
  expected_version: z.number().int().min(0).optional(),
  /** The couple wants a paid plan: the payment integration records it when this move completes the tour. */
  subscription_interest: z.strictObject({ plan: z.string().trim().min(1).max(50) }).optional(),
});

/** The moves that can complete a tour, and so the only ones that may carry a subscription interest. */
export const COMPLETING_ACTIONS = ['complete_tour', 'next_step'] as const;

export type UpdateProgressBody = z.infer<typeof updateProgressBody>;
