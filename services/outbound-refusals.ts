/**
 * The refusals for the outbound rules (connectors/outbound.ts) as an admin meets them: an account
 * address that may not be saved, a host change that needs the credentials again, and a connection test
 * whose destination the guarded HTTP layer refused. Kept in one place so the integration service and
 * the connection test word and shape them the same way; api/error-codes.ts gives their statuses.
 */
import type { ConnectorError, OutboundRefusal } from '../connectors/errors';
import type { AccountRefusal } from '../connectors/registry';
import { refuse } from './result';

/** `outbound_address_forbidden`, naming the rule; never the address's answer (there was none). */
export function forbiddenAddress(displayName: string, refusal: Pick<OutboundRefusal, 'rule' | 'host' | 'address' | 'message'>) {
  return refuse('outbound_address_forbidden', `${displayName} cannot be reached there: ${refusal.message}`, {
    rule: refusal.rule,
    host: refusal.host,
    ...(refusal.address && refusal.address !== refusal.host ? { address: refusal.address } : {}),
  });
}

/** Why an account address cannot be saved: a forbidden address, or a new host without the credentials. */
export function accountRefusal(displayName: string, refusal: AccountRefusal) {
  if (refusal.kind === 'forbidden') return forbiddenAddress(displayName, refusal.refusal);
  return refuse(
    'credentials_required',
    `Changing ${displayName}'s account host from ${refusal.from} to ${refusal.to} needs the credentials again: send them in the same request`,
    { from_host: refusal.from, to_host: refusal.to, fields: refusal.fields.map((f) => `credentials.${f}`) },
  );
}

/** A call the guarded HTTP layer stopped (`outbound_forbidden` or `redirect_refused`): nothing reached the destination. */
export function refusedCall(displayName: string, error: ConnectorError) {
  const details = error.details ?? {};
  if (error.code === 'redirect_refused') {
    return refuse('outbound_redirect_refused', `${displayName} answered with a redirect, which is never followed; check the integration's address`, {
      rule: 'redirect',
      status: error.status ?? null,
      ...(details.location_host ? { location_host: details.location_host } : {}),
    });
  }
  return forbiddenAddress(displayName, {
    rule: details.rule as OutboundRefusal['rule'],
    host: String(details.host ?? ''),
    ...(details.address ? { address: String(details.address) } : {}),
    // The connector's message starts with the provider's id; the refusal names the provider itself.
    message: error.message.replace(/^[^:]+: /, ''),
  });
}
