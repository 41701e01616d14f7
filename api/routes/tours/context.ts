import { z } from 'zod';
import { jsonObject } from '../shared';

const MAX_CONTEXT_BYTES = 4096;

/**
 * The person as the client describes them, for the tours' show and skip rules (docs/api.md#the-rule-language):
 * a JSON object of up to 4 kB. In a query it is the object's JSON text (`?context={"guest_count":120}`,
 * URL-encoded). What the member profile holds (audience, wedding date and phase, completed tours,
 * attributes) wins over the same names here.
 */
export const contextQuery = z
  .string()
  .max(MAX_CONTEXT_BYTES)
  .transform((raw, ctx) => {
    try {
      const value = JSON.parse(raw) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // falls through to the issue below
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
    return z.NEVER;
  })
  .describe('The person as the client knows them, a JSON object (URL-encoded) the show and skip rules read; the member profile wins on the names it holds');

export const contextBody = jsonObject
  .refine((v) => JSON.stringify(v).length <= MAX_CONTEXT_BYTES, { message: `at most ${MAX_CONTEXT_BYTES} bytes` })
  .describe('The person as the client knows them, for the steps\' show and skip rules; the member profile wins on the names it holds');
