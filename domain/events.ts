/**
 * The analytics events of accepted transitions, as the tour workflow hands them to whoever writes them:
 * the API (from an update's result, for read-your-writes) and the workflow's own flush. Both write the
 * same rows; the key below makes the second write a no-op.
 */
import type { TourEventType } from './tour-state';

export interface RecordedEvent {
  type: TourEventType;
  stepIndex: number | null;
  stepKey: string | null;
  data?: Record<string, unknown>;
  interactionTimeMs?: number;
  /** The transition's version and the event's place in it: together its key, whoever writes it. */
  version?: number;
  index?: number;
  /** When the transition happened; a flushed batch spans several. */
  occurredAt?: string;
}
