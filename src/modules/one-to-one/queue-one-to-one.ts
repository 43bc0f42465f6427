import type { Services } from '../../services.ts';
import { addRecipients, leadIdsAudience } from '../delivery/ledger-queries.ts';
import { enqueueChunksInTransaction } from '../delivery/send-chunk-queue.ts';
import type { LeadStatus } from '../leads/lead-input.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { findSameOneToOne, insertOneToOne, lockRecipientLead, type NewOneToOneEmail, type RecipientLead } from './queries.ts';

/**
 * A second submission of the same email (a double click on Send, or the form opened twice) within this
 * long is the same email: it goes out once.
 */
export const SAME_EMAIL_WINDOW_MS = 10 * 60_000;

export type QueueOutcome =
  | { kind: 'queued'; id: number; lead: RecipientLead }
  | { kind: 'duplicate'; id: number; lead: RecipientLead }
  | { kind: 'not-subscribed'; lead: RecipientLead & { status: Exclude<LeadStatus, 'subscribed'> } }
  | { kind: 'erased' };

/**
 * One transaction: the email's row, its send ledger row (source 'one_to_one', source_id = the row) and
 * its send job, so the three exist together or not at all. The lead's row is locked first, so two
 * submissions take turns and the second finds the first; the ledger's unique key then keeps the one
 * email to one row, whatever retries the job sees.
 */
export async function queueOneToOne(services: Services, email: Omit<NewOneToOneEmail, 'createdAt'>): Promise<QueueOutcome> {
  const now = services.clock.now();
  const { teamId } = email;
  return services.sql.begin(async (tx): Promise<QueueOutcome> => {
    const lead = await lockRecipientLead(tx, teamId, email.leadId);
    if (!lead) return { kind: 'erased' };
    if (lead.status !== 'subscribed') return { kind: 'not-subscribed', lead: { ...lead, status: lead.status } };
    const same = await findSameOneToOne(tx, email, new Date(now.getTime() - SAME_EMAIL_WINDOW_MS));
    if (same !== undefined) return { kind: 'duplicate', id: same, lead };

    const id = await insertOneToOne(tx, { ...email, createdAt: now });
    const source = { teamId, kind: 'one_to_one' as const, id };
    const { chunkIds } = await addRecipients(tx, source, leadIdsAudience(tx, [lead.id]), { analyze: false });
    await enqueueChunksInTransaction(services, tx, chunkIds.map((chunkId) => ({ teamId, chunkId, sourceKind: 'one_to_one', sourceId: id })));
    await recordAudit(tx, { teamId, actorUserId: email.senderUser, action: 'one_to_one.queued', subject: String(id), details: { lead_id: lead.id, alert_id: email.alertId } });
    return { kind: 'queued', id, lead };
  });
}
