import type { TransactionSql } from '../../db/client.ts';
import type { Services } from '../../services.ts';
import type { EmailLabels } from '../delivery/email-source.ts';
import { insertEvents } from '../events/queries.ts';
import { planLedgerChange } from './plan-ledger-change.ts';
import {
  finishWebhook,
  lockSendByProviderId,
  lockSendInTeam,
  lockWebhook,
  markLeadBounced,
  markLeadComplained,
  updateSendFromWebhook,
  type WebhookSendRow,
} from './queries.ts';
import { isHardBounce, ResendEmailEventSchema, SEND_TAG, TEAM_TAG, type ResendEmailEvent } from './resend-webhook-event.ts';

/**
 * An event may arrive before the pipeline has recorded Resend's id for the email (it records the answer
 * of the batch call right after it). Until the event is this old it is retried, then recorded unmatched.
 * Not for an email carrying our nurture_send tag: its ledger row exists before it is sent, so a tag that
 * matches nothing (the lead was erased, another workspace's row) never will.
 */
export const MATCH_GRACE_MS = 2 * 60_000;

/** events.source of what this module records. */
export const RESEND_EVENT_SOURCE = 'resend';

const EVENT_NAMES = {
  'email.delivered': 'email_delivered',
  'email.delivery_delayed': 'email_delivery_delayed',
  'email.bounced': 'email_bounced',
  'email.complained': 'email_complained',
  'email.opened': 'email_opened',
  'email.clicked': 'email_clicked',
  'email.failed': 'email_failed',
  'email.suppressed': 'email_suppressed',
} as const satisfies Record<ResendEmailEvent['type'], string>;

/** resend_webhooks.outcome: what processing did. `already-processed` and `gone` are not stored (nothing to store). */
export type WebhookOutcome = 'applied' | 'duplicate-state' | 'out-of-order' | 'unmatched' | 'ignored' | 'already-processed' | 'gone';

/** The email is not in the ledger yet; pg-boss retries the job. */
export class WebhookNotMatchedYetError extends Error {
  override name = 'WebhookNotMatchedYetError';
}

/**
 * Applies one stored webhook to the ledger row, the lead and the event log, in one transaction with
 * marking it processed: a second run (a retry, a redelivery's job) finds it processed and does nothing.
 */
export async function processWebhook(services: Services, svixId: string, now = new Date()): Promise<WebhookOutcome> {
  const result = await services.sql.begin(async (tx) => {
    const webhook = await lockWebhook(tx, svixId);
    // Pruned (30 days) before a late job ran.
    if (!webhook) return { outcome: 'gone' as const };
    if (webhook.processed_at) return { outcome: 'already-processed' as const, type: webhook.event_type };
    const parsed = ResendEmailEventSchema.safeParse(webhook.payload);
    if (!parsed.success) {
      await finishWebhook(tx, svixId, 'ignored', null);
      return { outcome: 'ignored' as const, type: webhook.event_type };
    }
    const event = parsed.data;
    const send = await findSend(tx, event);
    if (!send) {
      const happened = Math.min(webhook.received_at.getTime(), Date.parse(event.created_at));
      if (!event.data.tags?.[SEND_TAG] && now.getTime() - happened < MATCH_GRACE_MS) {
        throw new WebhookNotMatchedYetError(`no ledger row for this Resend email yet (svix-id ${svixId}); retrying until the event is ${MATCH_GRACE_MS / 60_000} minutes old`);
      }
      await finishWebhook(tx, svixId, 'unmatched', null);
      return { outcome: 'unmatched' as const, type: event.type };
    }
    const outcome = await applyEvent(services, tx, send, event, svixId);
    await finishWebhook(tx, svixId, outcome, send.team_id);
    return { outcome, type: event.type, teamId: send.team_id, sendId: send.id };
  });
  services.logger.debug({ svixId, ...result }, 'resend webhook processed');
  return result.outcome;
}

/** By Resend's id; else by our tags, only ever within the workspace they name (nothing crosses workspaces). */
async function findSend(tx: TransactionSql, event: ResendEmailEvent): Promise<WebhookSendRow | undefined> {
  const byProviderId = await lockSendByProviderId(tx, event.data.email_id);
  if (byProviderId) return byProviderId;
  const teamId = event.data.tags?.[TEAM_TAG];
  const sendId = event.data.tags?.[SEND_TAG];
  if (!teamId || !sendId || !/^[1-9]\d{0,14}$/.test(sendId)) return undefined;
  return lockSendInTeam(tx, teamId, Number(sendId));
}

async function applyEvent(services: Services, tx: TransactionSql, send: WebhookSendRow, event: ResendEmailEvent, svixId: string): Promise<WebhookOutcome> {
  const change = planLedgerChange(send, event);
  if (change.update) await updateSendFromWebhook(tx, send.team_id, send.id, change.update);

  // The address facts hold whatever the row's state: a hard bounce or a complaint stops all mail to the lead.
  let leadChanged = false;
  if (event.type === 'email.bounced' && isHardBounce(event)) leadChanged = await markLeadBounced(tx, send.team_id, send.lead_id);
  if (event.type === 'email.complained') leadChanged = await markLeadComplained(tx, send.team_id, send.lead_id);

  const labels = await labelsOf(services, tx, send);
  await insertEvents(tx, send.team_id, RESEND_EVENT_SOURCE, [
    {
      lead_id: send.lead_id,
      kind: 'email',
      name: EVENT_NAMES[event.type],
      properties: { ...labels, send_id: send.id, ...eventDetails(event) },
      url_path: null,
      dedupe_key: `resend:${svixId}`,
      occurred_at: event.created_at,
    },
  ]);
  return leadChanged ? 'applied' : change.outcome;
}

/** How segments and digests name the email: its source's labels, or its kind and id while the source has none. */
async function labelsOf(services: Services, tx: TransactionSql, send: WebhookSendRow): Promise<EmailLabels> {
  const source = services.emailSources.get(send.source_kind);
  if (!source) return { message: `${send.source_kind} ${send.source_id}` };
  return source.labels(tx, send.team_id, send.source_id, send.source_step);
}

function eventDetails(event: ResendEmailEvent): Record<string, string> {
  switch (event.type) {
    case 'email.clicked':
      return { url: event.data.click.link };
    case 'email.bounced':
      return { bounce_type: isHardBounce(event) ? 'hard' : 'soft' };
    case 'email.failed':
      return event.data.failed?.reason ? { reason: event.data.failed.reason } : {};
    case 'email.suppressed':
      return event.data.suppressed?.type ? { reason: event.data.suppressed.type } : {};
    default:
      return {};
  }
}
