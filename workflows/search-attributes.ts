import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The search attributes a tour's workflow sets: the one list. `tourhub dev` and the test servers
 * register it, so does docker-compose's temporal-setup, and a cluster must have it (see the operations
 * docs). Types are spelled as the Temporal CLI takes them (`--search-attribute TourId=Keyword`,
 * `temporal operator search-attribute create --type Keyword`).
 * Ids and state only: personal data (names, emails, phone numbers) never goes into a search attribute.
 */
export const TOUR_SEARCH_ATTRIBUTES = [
  { name: 'TourOrgId', type: 'Keyword' },
  { name: 'TourId', type: 'Keyword' },
  { name: 'TourUserId', type: 'Keyword' },
  { name: 'TourStatus', type: 'Keyword' },
  { name: 'TourStepIndex', type: 'Int' },
] as const satisfies readonly { name: string; type: 'Keyword' | 'Int' }[];

export type TourSearchAttribute = (typeof TOUR_SEARCH_ATTRIBUTES)[number];
type Named<N extends TourSearchAttribute['name']> = Extract<TourSearchAttribute, { name: N }>;

const SDK_TYPES = { Keyword: SearchAttributeType.KEYWORD, Int: SearchAttributeType.INT } as const;

/** The typed key of one attribute of the list, for upserts and typed start options. */
function key<N extends TourSearchAttribute['name']>(name: N) {
  const { type } = TOUR_SEARCH_ATTRIBUTES.find((sa) => sa.name === name) as Named<N>;
  return defineSearchAttributeKey(name, SDK_TYPES[type] as (typeof SDK_TYPES)[Named<N>['type']]);
}

export const TourOrgId = key('TourOrgId');
export const TourId = key('TourId');
export const TourUserId = key('TourUserId');
export const TourStatus = key('TourStatus');
export const TourStepIndex = key('TourStepIndex');
