import type { Queryable } from '../../db/client.ts';
import { UsageError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { cancelQueuedRowsOfLead } from '../delivery/ledger-queries.ts';
import { requestCardUpdate } from '../newsletters/update-newsletter-card-queue.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { findSequence } from './queries.ts';
import { deferLeadRows, deleteHold, heldLeadIds, NURTURE_HELD_REASON, sequencesWithOpenRuns, undeferLeadRows, upsertHold } from './run-queries.ts';
import { reschedule } from './sequence-lifecycle.ts';
import { requestTick } from './tick-sequences-queue.ts';

export const holdRefusedText = { noLead: 'That lead no longer exists.' };

/**
 * "A human is on this lead" (a rep claimed a hot lead): no sequence step goes to the lead until `until`.
 * Steps coming due meanwhile move to the hold's end (then into the send window, at the tick); sequence
 * emails already queued for the lead wait too (deferred to the hold's end). Newsletters leave the lead
 * out: those starting meanwhile (withoutHeldLeads), and those under way or paused, whose email still
 * waiting for the lead is cancelled (a broadcast's moment does not come back). Holding again replaces
 * the hold. Enrollment goes on: a held lead's runs simply wait.
 */
export async function holdLeadNurture(services: Services, input: { teamId: string; leadId: number; until: Date; byUserId: string; reason: string }): Promise<void> {
  const { teamId, leadId } = input;
  const newsletters = await services.sql.begin(async (tx) => {
    if (!(await upsertHold(tx, input))) throw new UsageError(holdRefusedText.noLead);
    const deferred = await deferLeadRows(tx, teamId, leadId, input.until);
    const leftOut = await cancelQueuedRowsOfLead(tx, teamId, leadId, 'newsletter', NURTURE_HELD_REASON);
    await recordAudit(tx, {
      teamId,
      actorUserId: input.byUserId,
      action: 'lead.nurture_held',
      subject: String(leadId),
      details: { until: input.until.toISOString(), reason: input.reason, emailsDeferred: deferred, newslettersLeftOut: leftOut },
    });
    return leftOut;
  });
  // Their cards count the cancelled email, and a send whose last waiting email this was finishes.
  for (const newsletterId of newsletters) await requestCardUpdate(services, teamId, newsletterId);
}

/**
 * Ends a hold before its time: what it deferred may go, and the lead's runs are due at their own times
 * again (not before now, within the window). False when the lead was not held.
 */
export async function releaseLeadNurture(services: Services, input: { teamId: string; leadId: number; byUserId: string }): Promise<boolean> {
  const { teamId, leadId } = input;
  const now = services.clock.now();
  const released = await services.sql.begin(async (tx) => {
    if (!(await deleteHold(tx, teamId, leadId))) return undefined;
    await undeferLeadRows(tx, teamId, leadId, now);
    let dueNow = 0;
    for (const sequenceId of await sequencesWithOpenRuns(tx, teamId, leadId)) {
      const sequence = await findSequence(tx, teamId, sequenceId);
      if (sequence) dueNow += await reschedule(tx, sequence, now, { leadId });
    }
    await recordAudit(tx, { teamId, actorUserId: input.byUserId, action: 'lead.nurture_released', subject: String(leadId) });
    return { dueNow };
  });
  if (!released) return false;
  if (released.dueNow > 0) await requestTick(services);
  return true;
}

/**
 * `leadIds` without the leads held at `now`: a newsletter starting now leaves them out (a broadcast does
 * not wait for one lead; its moment passes while sales is on the lead).
 */
export async function withoutHeldLeads(sql: Queryable, teamId: string, leadIds: readonly number[], now: Date): Promise<number[]> {
  const held = new Set(await heldLeadIds(sql, teamId, now));
  return held.size === 0 ? [...leadIds] : leadIds.filter((id) => !held.has(id));
}
