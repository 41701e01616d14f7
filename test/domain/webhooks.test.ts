import { filterMatches, inboundTourCommand, orderingKeyOf, outboundBody, unknownFilterEntries } from '../../domain/webhooks';

describe('subscription filters', () => {
  it.each([
    [['*'], 'tour.completed', true],
    [['tour.*'], 'tour.completed', true],
    [['tour.*'], 'tour.onboarding_completed', true],
    [['tour.*'], 'integration.degraded', false],
    [['integration.degraded'], 'integration.degraded', true],
    [['integration.degraded'], 'integration.recovered', false],
    [['tour.*'], 'tournament.x', false],
    [['integration.*'], 'integration.future_type', true],
  ])('%j takes %s: %s', (filter, type, expected) => {
    expect(filterMatches(filter, type)).toBe(expected);
  });

  it('names the entries that match nothing we send', () => {
    expect(unknownFilterEntries(['*', 'tour.*', 'feedback.submitted', 'webhook.*'])).toEqual([]);
    expect(unknownFilterEntries(['tour.finished', 'crm.*', 'tour.completed'])).toEqual(['tour.finished', 'crm.*']);
  });

  it('orders by tour run, then subject, then organisation', () => {
    expect(orderingKeyOf({ ordering_key: 'tour:o:u:t', subject_id: 'p' })).toBe('tour:o:u:t');
    expect(orderingKeyOf({ ordering_key: null, subject_id: 'i-1' })).toBe('subject:i-1');
    expect(orderingKeyOf({ ordering_key: null, subject_id: null })).toBe('organization');
  });

  it('writes the Standard Webhooks body: type, timestamp, data', () => {
    expect(JSON.parse(outboundBody({ event_type: 'tour.started', created_at: new Date('2026-11-23T12:00:00Z'), payload: { tour_id: 't' } }))).toEqual({
      type: 'tour.started',
      timestamp: '2026-11-23T12:00:00.000Z',
      data: { tour_id: 't' },
    });
  });
});

describe('inbound tour events as moves', () => {
  it('maps each of the seed\'s events to the state machine\'s command', () => {
    expect(inboundTourCommand('tour_started', { device_type: 'tablet' })).toEqual({ kind: 'start', args: { deviceType: 'tablet' } });
    expect(inboundTourCommand('tour_started', { restart: true })).toEqual({ kind: 'start', args: { restart: true } });
    expect(inboundTourCommand('step_completed', { step_index: 2 })).toEqual({ kind: 'advance', args: { action: 'next_step', stepIndex: 2 } });
    expect(inboundTourCommand('step_skipped', { step_key: 'guests' })).toEqual({ kind: 'advance', args: { action: 'skip_step', stepKey: 'guests' } });
    expect(inboundTourCommand('tour_completed', { rating: 5, feedback: 'Great', was_helpful: false })).toEqual({
      kind: 'advance',
      args: { action: 'complete_tour', feedback: { rating: 5, feedback: 'Great', wasHelpful: false } },
    });
    expect(inboundTourCommand('tour_completed', {})).toEqual({ kind: 'advance', args: { action: 'complete_tour' } });
    expect(inboundTourCommand('tour_abandoned', { step_index: 3 })).toEqual({ kind: 'advance', args: { action: 'abandon_tour' } });
  });
});
