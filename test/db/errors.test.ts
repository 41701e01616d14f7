import { isDatabaseUnavailable } from '../../db/errors';

const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  const outage: [string, unknown][] = [
    ['a refused connection', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset socket', coded('ECONNRESET')],
    ['an administrator shutdown (57P01)', coded('57P01', 'terminating connection due to administrator command')],
    ['a server still starting (57P03)', coded('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', coded('08006')],
    ['too many connections (53300)', coded('53300')],
    ['a socket closed under a query', new Error('Connection terminated unexpectedly')],
    ["knex's pool giving up", Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' })],
    ['an outage wrapped as a cause', new Error('query failed', { cause: coded('ECONNREFUSED') })],
  ];
  it.each(outage)('is true for %s', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  const bugs: [string, unknown][] = [
    ['a syntax error (42601)', coded('42601', 'syntax error at or near "selec"')],
    ['a unique violation (23505)', coded('23505')],
    ['a permission refusal (42501)', coded('42501', 'permission denied for table x')],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ];
  it.each(bugs)('is false for %s', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
