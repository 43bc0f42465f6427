import type { Queryable } from '../../db/client.ts';
import type { LeadStatus } from '../leads/lead-input.ts';

export type UnsubscribeMethod = 'one_click' | 'page';

export interface UnsubscribeLeadRow {
  id: number;
  email: string;
  status: LeadStatus;
  locale: string | null;
}

/** The lead a link names, within its workspace; `forUpdate` holds it until the transaction ends. */
export async function findLeadForUnsubscribe(sql: Queryable, teamId: string, leadId: number, options: { forUpdate?: boolean } = {}): Promise<UnsubscribeLeadRow | undefined> {
  const [row] = await sql<UnsubscribeLeadRow[]>`
    SELECT id, email, status, locale FROM leads WHERE team_id = ${teamId} AND id = ${leadId}
    ${options.forUpdate ? sql`FOR UPDATE` : sql``}`;
  return row;
}

export async function hasUnsubscribeOnRecord(sql: Queryable, teamId: string, leadId: number): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM unsubscribes WHERE team_id = ${teamId} AND lead_id = ${leadId} LIMIT 1`;
  return rows.length > 0;
}

export async function insertUnsubscribe(
  sql: Queryable,
  row: { teamId: string; leadId: number; method: UnsubscribeMethod; sendId: number | null; statusBefore: LeadStatus; userAgent: string | null; at: Date },
): Promise<number> {
  const [inserted] = await sql<{ id: number }[]>`
    INSERT INTO unsubscribes (team_id, lead_id, method, send_id, status_before, user_agent, created_at)
    -- The send is named only if the ledger still holds it for this lead (links outlive pruned rows).
    VALUES (${row.teamId}, ${row.leadId}, ${row.method},
            (SELECT id FROM email_sends WHERE id = ${row.sendId} AND team_id = ${row.teamId} AND lead_id = ${row.leadId}),
            ${row.statusBefore}, ${row.userAgent}, ${row.at})
    RETURNING id`;
  return inserted!.id;
}

/** Only a subscribed lead becomes unsubscribed: bounced and complained say more and stay. */
export async function markLeadUnsubscribed(sql: Queryable, teamId: string, leadId: number): Promise<void> {
  await sql`UPDATE leads SET status = 'unsubscribed', updated_at = now() WHERE team_id = ${teamId} AND id = ${leadId} AND status = 'subscribed'`;
}
