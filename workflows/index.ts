// The workflow bundle's entry point: every workflow the worker runs is exported from here, under the
// type name its callers use (TOUR_WORKFLOW_TYPE for the tour).
export { tourLifecycle } from './tour-lifecycle/workflow';
export { replayDelivery } from './delivery-replay';
export { analyticsRetention } from './analytics-retention';
export { webhookLane } from './webhook-lane';
export { pushChannel } from './push-channel';
