import type { Sql } from '../../db/client.ts';
import { insertEvents } from '../events/queries.ts';
import { findLeadForUnsubscribe, hasUnsubscribeOnRecord, insertUnsubscribe, markLeadUnsubscribed, type UnsubscribeLeadRow, type UnsubscribeMethod } from './queries.ts';
import type { UnsubscribeTarget } from './unsubscribe-token.ts';

export const UNSUBSCRIBED_EVENT = 'email_unsubscribed';
/** events.source of what this module records. */
export const UNSUBSCRIBE_EVENT_SOURCE = 'unsubscribe';

export type UnsubscribeResult =
  | { outcome: 'unsubscribed' | 'already-unsubscribed'; lead: UnsubscribeLeadRow }
  /** The link was signed by us but names no lead (erased with /nurture forget, or its workspace removed). */
  | { outcome: 'unknown-lead' };

/**
 * Unsubscribes the lead a link names, at once and idempotently: the status, an unsubscribes row and an
 * `email_unsubscribed` event change together, once. A bounced or complained lead keeps that status, but its
 * request is still recorded (once), so it is honoured should the bounce ever be cleared. Concurrent requests
 * (the mail client's one-click POST and the person on the page) take turns on the lead's row.
 */
export async function unsubscribeLead(
  sql: Sql,
  target: UnsubscribeTarget,
  request: { method: UnsubscribeMethod; userAgent?: string },
): Promise<UnsubscribeResult> {
  return sql.begin(async (tx) => {
    const lead = await findLeadForUnsubscribe(tx, target.teamId, target.leadId, { forUpdate: true });
    if (!lead) return { outcome: 'unknown-lead' as const };
    const alreadyAsked = lead.status === 'unsubscribed' || (lead.status !== 'subscribed' && (await hasUnsubscribeOnRecord(tx, target.teamId, lead.id)));
    if (alreadyAsked) return { outcome: 'already-unsubscribed' as const, lead };

    const at = new Date();
    const unsubscribeId = await insertUnsubscribe(tx, {
      teamId: target.teamId,
      leadId: lead.id,
      method: request.method,
      sendId: target.sendId ?? null,
      statusBefore: lead.status,
      userAgent: request.userAgent?.slice(0, 300) || null,
      at,
    });
    await markLeadUnsubscribed(tx, target.teamId, lead.id);
    await insertEvents(tx, target.teamId, UNSUBSCRIBE_EVENT_SOURCE, [
      {
        lead_id: lead.id,
        kind: 'email',
        name: UNSUBSCRIBED_EVENT,
        properties: { method: request.method, ...(target.sendId !== undefined ? { send_id: target.sendId } : {}), ...(lead.status !== 'subscribed' ? { status: lead.status } : {}) },
        url_path: null,
        dedupe_key: `unsubscribe:${unsubscribeId}`,
        occurred_at: at.toISOString(),
      },
    ]);
    return { outcome: 'unsubscribed' as const, lead: { ...lead, status: lead.status === 'subscribed' ? 'unsubscribed' : lead.status } };
  });
}
