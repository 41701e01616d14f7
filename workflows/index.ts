// The workflow bundle's entry point: every workflow the worker runs is exported from here.
export { tourLifecycle } from './tour-lifecycle';
export { replayDelivery } from './delivery-replay';
