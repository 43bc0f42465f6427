import type { Sql } from '../../db/client.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { hashEmail } from './email-hash.ts';
import { eraseLead, findLeadByEmail, rememberForgotten } from './queries.ts';

export interface ForgetResult {
  /** False when we held nothing on the address: it is blocked from now on all the same. */
  hadLead: boolean;
}

/**
 * Erases everything about a person (lead, attributes, events) in one transaction and keeps only a
 * keyed hash of the address, so it is refused by later imports and never mailed. The audit entry
 * names who did it, not whom: it holds the hash's first characters, never the address.
 */
export async function forgetLead(deps: { sql: Sql; trackingSecret: string }, teamId: string, email: string, actorUserId: string): Promise<ForgetResult> {
  const emailHash = hashEmail(deps.trackingSecret, email);
  return deps.sql.begin(async (tx) => {
    const lead = await findLeadByEmail(tx, teamId, email);
    if (lead) await eraseLead(tx, teamId, lead, emailHash, actorUserId);
    else await rememberForgotten(tx, teamId, emailHash, actorUserId);
    await recordAudit(tx, { teamId, actorUserId, action: 'lead.forgotten', subject: `sha256:${emailHash.toString('hex').slice(0, 12)}`, details: { hadLead: Boolean(lead) } });
    return { hadLead: Boolean(lead) };
  });
}
