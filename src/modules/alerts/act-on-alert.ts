import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { requireRole } from '../roles/roles.ts';
import { holdLeadNurture } from '../sequences/lead-nurture-hold.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { DEFAULT_ALERT_CHANNEL_SETTINGS } from './alert-channel.ts';
import { loadAlertViews } from './alert-views.ts';
import { buildAlertMessage, buildRollupMessage, SNOOZE_CHOICES } from './build-alert-message.ts';
import { alertsOfMessage, decideAlertRow, findAlert, findAlertChannel, setLeadOwner, snoozeAlertRow, type LeadAlert } from './queries.ts';

export const ALERT_GONE_TEXT = 'This alert is gone: its lead was erased.';

/** Why a button did nothing: someone else got there first, or the alert moved on. */
export function alertTakenText(alert: LeadAlert): string {
  if (alert.status === 'claimed') return `<@${alert.decidedBy}> already claimed this lead.`;
  if (alert.status === 'not_a_fit') return `<@${alert.decidedBy}> already marked this lead not a fit.`;
  if (alert.status === 'pending') return alert.snoozedBy ? `<@${alert.snoozedBy}> snoozed this alert; it comes back later.` : 'This alert is not posted yet.';
  return 'This alert has moved on.';
}

export const AlertIdSchema = z.coerce.number().int().positive();
export const SnoozeValueSchema = z
  .string()
  .regex(/^\d+:\d+$/)
  .transform((value) => value.split(':').map(Number) as [number, number])
  .refine(([, minutes]) => SNOOZE_CHOICES.some((choice) => choice.minutes === minutes), 'not a snooze choice');

export interface AlertAction {
  teamId: string;
  userId: string;
  alertId: number;
}

/**
 * The rep takes the lead: the alert is theirs (the first click wins), they become the lead's owner, and
 * the lead's automated nurture pauses for the channel's hold time so marketing and sales don't talk over
 * each other. Returns the claimed alert.
 */
export async function claimAlert(services: Services, action: AlertAction): Promise<LeadAlert> {
  const { teamId, userId, alertId } = action;
  await requireRole(services, teamId, userId, ['rep'], 'Claiming a hot lead');
  const now = services.clock.now();
  const claimed = await services.sql.begin(async (tx) => {
    const alert = await decideAlertRow(tx, { teamId, alertId, userId, now, status: 'claimed' });
    if (!alert) return undefined;
    await setLeadOwner(tx, teamId, alert.leadId, userId);
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'alert.claimed', subject: String(alertId), details: { leadId: alert.leadId } });
    return alert;
  });
  if (!claimed) throw new UsageError(await refusalText(services, teamId, alertId));
  const channel = await findAlertChannel(services.sql, teamId, claimed.channelId);
  const holdDays = (channel?.settings ?? DEFAULT_ALERT_CHANNEL_SETTINGS).claimHoldDays;
  await holdLeadNurture(services, { teamId, leadId: claimed.leadId, until: new Date(now.getTime() + holdDays * 86_400_000), byUserId: userId, reason: `claimed hot-lead alert ${alertId}` });
  services.logger.info({ teamId, userId, alertId, leadId: claimed.leadId }, 'hot lead claimed');
  return claimed;
}

/** Not worth a rep's time: recorded (alert precision in `/nurture alerts list`), the message says who. */
export async function markAlertNotAFit(services: Services, action: AlertAction): Promise<LeadAlert> {
  const { teamId, userId, alertId } = action;
  await requireRole(services, teamId, userId, ['rep'], 'Marking a hot lead not a fit');
  const alert = await services.sql.begin(async (tx) => {
    const marked = await decideAlertRow(tx, { teamId, alertId, userId, now: services.clock.now(), status: 'not_a_fit' });
    if (marked) await recordAudit(tx, { teamId, actorUserId: userId, action: 'alert.not_a_fit', subject: String(alertId), details: { leadId: marked.leadId } });
    return marked;
  });
  if (!alert) throw new UsageError(await refusalText(services, teamId, alertId));
  return alert;
}

/** Later, please: the alert waits and is posted again (a new message) when the snooze ends. */
export async function snoozeAlert(services: Services, action: AlertAction & { minutes: number }): Promise<LeadAlert> {
  const { teamId, userId, alertId } = action;
  await requireRole(services, teamId, userId, ['rep'], 'Snoozing a hot lead');
  const until = new Date(services.clock.now().getTime() + action.minutes * 60_000);
  const alert = await snoozeAlertRow(services.sql, teamId, alertId, userId, until);
  if (!alert) throw new UsageError(await refusalText(services, teamId, alertId));
  return alert;
}

async function refusalText(services: Services, teamId: string, alertId: number): Promise<string> {
  const alert = await findAlert(services.sql, teamId, alertId);
  return alert ? alertTakenText(alert) : ALERT_GONE_TEXT;
}

/** Redraws a message from its alerts as they are now (its own alert, or a roll-up's). */
export async function redrawAlertMessage(services: Services, teamId: string, channelId: string, messageTs: string): Promise<void> {
  const alerts = await alertsOfMessage(services.sql, teamId, channelId, messageTs);
  if (alerts.length === 0) return;
  const views = await loadAlertViews(services.sql, teamId, alerts, services.clock.now());
  if (views.length === 0) return;
  const message = views.length === 1 && !views[0]!.alert.rolledUp ? buildAlertMessage(views[0]!) : buildRollupMessage(views);
  await services.slack.chat.update({ channel: channelId, ts: messageTs, ...message });
}
