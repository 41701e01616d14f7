/**
 * The rule language of `show_conditions` and `skip_conditions` (a tour's targeting and its steps): JSON
 * that an admin writes and a person's context is tested against. Pure and synchronous.
 *
 *   {}                                               always holds (an empty rule)
 *   { "field": "guest_count", "op": "gt", "value": 100 }
 *   { "and": [rule, ...] }  { "or": [rule, ...] }  { "not": rule }
 *
 * `field` is a dotted path into the context (`profile.city`). Operators:
 *   eq, neq            equal / not equal (strings, numbers, booleans, null; strict)
 *   in, not_in         the field is / is not one of `value` (an array)
 *   gt, gte, lt, lte   numbers with numbers, or strings with strings (ISO dates compare as text)
 *   exists             `value: true`: the field is present and not null; `false`: it is absent or null
 *   contains           the field (an array) holds `value`, or the field (a string) has `value` in it
 * A missing field makes every comparison false, except `neq` and `not_in` (true: it is not that value)
 * and `exists: false`. A rule is checked when it is saved (checkCondition), so evaluation never meets
 * an operator it does not know.
 */

export const CONDITION_OPERATORS = ['eq', 'neq', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'exists', 'contains'] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

type Scalar = string | number | boolean | null;

export type Condition =
  | Record<string, never>
  | { and: Condition[] }
  | { or: Condition[] }
  | { not: Condition }
  | { field: string; op: ConditionOperator; value?: unknown };

/** What is wrong with a rule: where (`$.and[1].op`), and, for an unknown operator, which. */
export interface ConditionProblem {
  path: string;
  message: string;
  /** Set when the problem is an operator the language does not have. */
  unknownOperator?: string;
}

/** Bounds on a rule's size, so a saved rule always evaluates in microseconds. */
export const MAX_CONDITION_DEPTH = 8;
export const MAX_CONDITION_NODES = 64;
const MAX_LIST = 200;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every problem with `raw` as a rule; empty when it is one. */
export function checkCondition(raw: unknown): ConditionProblem[] {
  const problems: ConditionProblem[] = [];
  let nodes = 0;
  const visit = (node: unknown, path: string, depth: number): void => {
    nodes++;
    if (nodes > MAX_CONDITION_NODES) {
      if (nodes === MAX_CONDITION_NODES + 1) problems.push({ path, message: `a rule has at most ${MAX_CONDITION_NODES} parts` });
      return;
    }
    if (depth > MAX_CONDITION_DEPTH) {
      problems.push({ path, message: `rules nest at most ${MAX_CONDITION_DEPTH} deep` });
      return;
    }
    if (!isObject(node)) {
      problems.push({ path, message: 'must be an object' });
      return;
    }
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    if (keys.length === 1 && (keys[0] === 'and' || keys[0] === 'or')) {
      const list = node[keys[0]];
      if (!Array.isArray(list) || list.length === 0) {
        problems.push({ path: `${path}.${keys[0]}`, message: 'must be a non-empty array of rules' });
        return;
      }
      list.forEach((child, i) => visit(child, `${path}.${keys[0]}[${i}]`, depth + 1));
      return;
    }
    if (keys.length === 1 && keys[0] === 'not') {
      visit(node.not, `${path}.not`, depth + 1);
      return;
    }
    const unknownKeys = keys.filter((k) => !['field', 'op', 'value'].includes(k));
    if (unknownKeys.length > 0 || !('field' in node) || !('op' in node)) {
      problems.push({ path, message: `must be {} or have exactly one of and, or, not, or be {field, op, value}${unknownKeys.length ? ` (unknown: ${unknownKeys.join(', ')})` : ''}` });
      return;
    }
    const { field, op, value } = node;
    if (typeof field !== 'string' || field.length > 100 || !FIELD.test(field)) {
      problems.push({ path: `${path}.field`, message: 'must be a dotted path of names (letters, digits, _), at most 100 characters' });
    }
    if (typeof op !== 'string' || !(CONDITION_OPERATORS as readonly string[]).includes(op)) {
      problems.push({ path: `${path}.op`, message: `unknown operator ${JSON.stringify(op)}; the operators are ${CONDITION_OPERATORS.join(', ')}`, unknownOperator: String(op) });
      return;
    }
    const problem = checkValue(op as ConditionOperator, value, 'value' in node);
    if (problem) problems.push({ path: `${path}.value`, message: problem });
  };
  visit(raw, '$', 1);
  return problems;
}

function checkValue(op: ConditionOperator, value: unknown, present: boolean): string | null {
  switch (op) {
    case 'exists':
      return typeof value === 'boolean' ? null : 'exists takes true or false';
    case 'in':
    case 'not_in':
      return Array.isArray(value) && value.length <= MAX_LIST && value.every(isScalar) ? null : `${op} takes an array of at most ${MAX_LIST} strings, numbers, booleans or nulls`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string' ? null : `${op} takes a number or a string`;
    case 'eq':
    case 'neq':
    case 'contains':
      return present && isScalar(value) ? null : `${op} takes a string, number, boolean or null`;
  }
}

/** The value at a dotted path, or undefined. */
function lookUp(context: Readonly<Record<string, unknown>>, field: string): unknown {
  let at: unknown = context;
  for (const part of field.split('.')) {
    if (!isObject(at) || !Object.prototype.hasOwnProperty.call(at, part)) return undefined;
    at = at[part];
  }
  return at;
}

function compare(op: 'gt' | 'gte' | 'lt' | 'lte', a: unknown, b: unknown): boolean {
  const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) return false;
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case 'gt':
      return x > y;
    case 'gte':
      return x >= y;
    case 'lt':
      return x < y;
    case 'lte':
      return x <= y;
  }
}

/** Whether `rule` holds for `context`. `rule` must have passed checkCondition. */
export function evaluate(rule: Condition, context: Readonly<Record<string, unknown>>): boolean {
  if ('and' in rule) return rule.and.every((r) => evaluate(r, context));
  if ('or' in rule) return rule.or.some((r) => evaluate(r, context));
  if ('not' in rule) return !evaluate(rule.not, context);
  if (!('field' in rule)) return true;
  const actual = lookUp(context, rule.field);
  const missing = actual === undefined;
  const v = rule.value;
  switch (rule.op) {
    case 'exists':
      return (actual !== undefined && actual !== null) === v;
    case 'eq':
      return !missing && actual === v;
    case 'neq':
      return missing || actual !== v;
    case 'in':
      return !missing && (v as unknown[]).includes(actual);
    case 'not_in':
      return missing || !(v as unknown[]).includes(actual);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return !missing && compare(rule.op, actual, v);
    case 'contains':
      if (Array.isArray(actual)) return actual.includes(v);
      return typeof actual === 'string' && typeof v === 'string' && actual.includes(v);
  }
}

/** An empty rule, which always holds (and, as a skip rule, never skips). */
export function isEmptyCondition(rule: unknown): boolean {
  return isObject(rule) && Object.keys(rule).length === 0;
}
