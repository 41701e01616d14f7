import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Ids and state only: personal data (names, emails, phone numbers) never goes into a search attribute.
export const TourOrgId = defineSearchAttributeKey('TourOrgId', SearchAttributeType.KEYWORD);
export const TourId = defineSearchAttributeKey('TourId', SearchAttributeType.KEYWORD);
export const TourUserId = defineSearchAttributeKey('TourUserId', SearchAttributeType.KEYWORD);
export const TourStatus = defineSearchAttributeKey('TourStatus', SearchAttributeType.KEYWORD);
export const TourStepIndex = defineSearchAttributeKey('TourStepIndex', SearchAttributeType.INT);

/**
 * The same keys as the Temporal CLI names their types: the one list `tourhub dev`'s dev server
 * (cli/temporal/dev-server.ts) and the benchmarks register, docker-compose's temporal-setup repeats (a test
 * compares) and the docs tell cluster operators to create.
 */
export const TOUR_SEARCH_ATTRIBUTES = [
  { name: TourOrgId.name, type: 'Keyword' },
  { name: TourId.name, type: 'Keyword' },
  { name: TourUserId.name, type: 'Keyword' },
  { name: TourStatus.name, type: 'Keyword' },
  { name: TourStepIndex.name, type: 'Int' },
] as const;

export function tourWorkflowId(orgId: string, userId: string, tourId: string): string {
  return `tour:${orgId}:${userId}:${tourId}`;
}
