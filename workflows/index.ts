// The workflow bundle's entry point: every workflow the worker runs is exported from here, under the
// type name its callers use (TOUR_WORKFLOW_TYPE for the tour, SYNC_WORKFLOW_TYPE and SYNC_TICK_WORKFLOW_TYPE for sync).
export { tourLifecycle } from './tour-lifecycle/workflow';
export { replayDelivery } from './delivery-replay';
export { analyticsRetention } from './analytics-retention';
export { webhookLane } from './webhook-lane';
export { pushChannel } from './push-channel';
export { integrationSync } from './integration-sync/workflow';
export { syncTick } from './integration-sync/tick';
