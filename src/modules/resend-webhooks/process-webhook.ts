import type { TransactionSql } from '../../db/client.ts';
import type { Services } from '../../services.ts';
import type { EmailLabels } from '../delivery/email-source.ts';
import { insertEvents } from '../events/queries.ts';
import { planLedgerChange } from './plan-ledger-change.ts';
import {
  finishWebhook,
  lockSendInTeam,
  lockWebhook,
  markLeadBounced,
  markLeadComplained,
  updateSendFromWebhook,
  type WebhookSendRow,
} from './queries.ts';
import { isHardBounce, ResendEmailEventSchema, SEND_TAG, TEAM_TAG, type ResendEmailEvent } from './resend-webhook-event.ts';

/** events.source of what this module records. */
export const RESEND_EVENT_SOURCE = 'resend';

const EVENT_NAMES = {
  'email.delivered': 'email_delivered',
  'email.delivery_delayed': 'email_delivery_delayed',
  'email.bounced': 'email_bounced',
  'email.complained': 'email_complained',
  // Nurture tracks opens and clicks itself (src/modules/tracking), telling machines from people; should
  // Resend's own tracking be on for the domain too, its reports are kept under names of their own, so
  // nothing is counted twice and segments, scoring and the ledger see only ours.
  'email.opened': 'resend_email_opened',
  'email.clicked': 'resend_email_clicked',
  'email.failed': 'email_failed',
  'email.suppressed': 'email_suppressed',
} as const satisfies Record<ResendEmailEvent['type'], string>;

/** resend_webhooks.outcome: what processing did. `already-processed` and `gone` are not stored (nothing to store). */
export type WebhookOutcome = 'applied' | 'duplicate-state' | 'out-of-order' | 'unmatched' | 'ignored' | 'already-processed' | 'gone';

/**
 * Applies one stored webhook to the ledger row, the lead and the event log, in one transaction with
 * marking it processed: a second run (a retry, a redelivery's job) finds it processed and does nothing.
 */
export async function processWebhook(services: Services, svixId: string): Promise<WebhookOutcome> {
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

/**
 * By our tags, only ever within the workspace they name (nothing crosses workspaces). Every email the
 * pipeline sends carries them, and its ledger row exists before it is sent, so a webhook is matched even
 * before the batch's answer (with Resend's id) is recorded; Resend's id is not indexed (it would cost
 * every send an index write per email). An email without our tags was not sent through the ledger (a
 * test send, another app on the same Resend account): nothing to match. A row that already holds another
 * Resend id is another email: the tags were copied, not ours.
 */
async function findSend(tx: TransactionSql, event: ResendEmailEvent): Promise<WebhookSendRow | undefined> {
  const teamId = event.data.tags?.[TEAM_TAG];
  const sendId = event.data.tags?.[SEND_TAG];
  if (!teamId || !sendId || !/^[1-9]\d{0,14}$/.test(sendId)) return undefined;
  const send = await lockSendInTeam(tx, teamId, Number(sendId));
  return send && (send.provider_id === null || send.provider_id === event.data.email_id) ? send : undefined;
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
