import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Ids and state only: personal data (names, emails, phone numbers) never goes into a search attribute.
export const TourOrgId = defineSearchAttributeKey('TourOrgId', SearchAttributeType.KEYWORD);
export const TourId = defineSearchAttributeKey('TourId', SearchAttributeType.KEYWORD);
export const TourUserId = defineSearchAttributeKey('TourUserId', SearchAttributeType.KEYWORD);
export const TourStatus = defineSearchAttributeKey('TourStatus', SearchAttributeType.KEYWORD);
export const TourStepIndex = defineSearchAttributeKey('TourStepIndex', SearchAttributeType.INT);
