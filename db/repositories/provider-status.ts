import type { Knex } from 'knex';

/**
 * What a provider later says about a call we made, on the delivery that made it (matched by the
 * provider's reference: Twilio's message sid, Stripe's customer id). A status only moves forward in
 * `rank`: Twilio may post `sent` after `delivered`, and the later, lesser news must not win.
 */
export async function noteProviderStatus(
  trx: Knex.Transaction,
  input: { integrationId: string; reference: string; status: string; rank: (status: string | null) => number; detail: Record<string, unknown> },
): Promise<number> {
  const rows: { id: string; provider_status: string | null }[] = await trx('integration_deliveries')
    .select('id', 'provider_status')
    .where({ integration_id: input.integrationId, provider_reference: input.reference })
    .forUpdate();
  let updated = 0;
  for (const row of rows) {
    if (input.rank(input.status) <= input.rank(row.provider_status)) continue;
    await trx('integration_deliveries')
      .where({ id: row.id })
      .update({ provider_status: input.status, provider_status_at: trx.fn.now(), provider_detail: JSON.stringify(input.detail) });
    updated++;
  }
  return updated;
}
