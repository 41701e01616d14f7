import { checkCondition, evaluate, type Condition } from '../../domain/conditions';

const context = {
  audience: 'couples',
  guest_count: 120,
  wedding_date: '2027-06-12',
  tags: ['outdoor', 'destination'],
  city: 'Lisbon',
  venue: null,
  profile: { plan: 'premium' },
};

describe('the condition rule language', () => {
  it.each<[string, Condition, boolean]>([
    ['an empty rule holds', {}, true],
    ['eq', { field: 'audience', op: 'eq', value: 'couples' }, true],
    ['eq is strict', { field: 'guest_count', op: 'eq', value: '120' }, false],
    ['neq', { field: 'audience', op: 'neq', value: 'venues' }, true],
    ['neq of a missing field holds', { field: 'nope', op: 'neq', value: 'x' }, true],
    ['in', { field: 'audience', op: 'in', value: ['couples', 'planners'] }, true],
    ['not_in', { field: 'audience', op: 'not_in', value: ['couples'] }, false],
    ['not_in of a missing field holds', { field: 'nope', op: 'not_in', value: ['x'] }, true],
    ['gt on numbers', { field: 'guest_count', op: 'gt', value: 100 }, true],
    ['lte on numbers', { field: 'guest_count', op: 'lte', value: 100 }, false],
    ['gte on ISO dates', { field: 'wedding_date', op: 'gte', value: '2027-01-01' }, true],
    ['lt across types is false', { field: 'guest_count', op: 'lt', value: '200' }, false],
    ['gt of a missing field is false', { field: 'nope', op: 'gt', value: 1 }, false],
    ['exists', { field: 'city', op: 'exists', value: true }, true],
    ['exists treats null as absent', { field: 'venue', op: 'exists', value: false }, true],
    ['contains in an array', { field: 'tags', op: 'contains', value: 'outdoor' }, true],
    ['contains in a string', { field: 'city', op: 'contains', value: 'isb' }, true],
    ['a dotted path', { field: 'profile.plan', op: 'eq', value: 'premium' }, true],
    ['and', { and: [{ field: 'audience', op: 'eq', value: 'couples' }, { field: 'guest_count', op: 'lt', value: 50 }] }, false],
    ['or', { or: [{ field: 'audience', op: 'eq', value: 'venues' }, { field: 'guest_count', op: 'gt', value: 50 }] }, true],
    ['not', { not: { field: 'city', op: 'eq', value: 'Lisbon' } }, false],
  ])('%s', (_name, rule, expected) => {
    expect(checkCondition(rule)).toEqual([]);
    expect(evaluate(rule, context)).toBe(expected);
  });

  it('names an unknown operator and where it is', () => {
    const problems = checkCondition({ and: [{ field: 'a', op: 'eq', value: 1 }, { field: 'b', op: 'matches', value: '.*' }] });
    expect(problems).toEqual([expect.objectContaining({ path: '$.and[1].op', unknownOperator: 'matches' })]);
  });

  it.each([
    ['not an object', 'audience = couples'],
    ['an empty and', { and: [] }],
    ['two combinators in one node', { and: [{}], or: [{}] }],
    ['a field that is not a path', { field: 'a b', op: 'eq', value: 1 }],
    ['in without an array', { field: 'a', op: 'in', value: 'x' }],
    ['exists without a boolean', { field: 'a', op: 'exists', value: 'yes' }],
    ['eq without a value', { field: 'a', op: 'eq' }],
    ['gt with an object', { field: 'a', op: 'gt', value: { n: 1 } }],
    ['an unknown key', { field: 'a', op: 'eq', value: 1, weight: 2 }],
    ['nesting past the limit', JSON.parse('{"not":'.repeat(9) + '{}' + '}'.repeat(9))],
    ['too many parts', { or: Array.from({ length: 70 }, () => ({})) }],
  ])('refuses %s', (_name, rule) => {
    expect(checkCondition(rule).length).toBeGreaterThan(0);
  });
});
