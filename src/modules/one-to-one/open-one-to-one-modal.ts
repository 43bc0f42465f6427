import type { BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { PermissionDeniedError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { ALERT_GONE_TEXT, AlertIdSchema } from '../alerts/act-on-alert.ts';
import { findAlert, findAlertChannel } from '../alerts/queries.ts';
import { leadsForSending, type SendingLead } from '../delivery/ledger-queries.ts';
import { requireRole } from '../roles/roles.ts';
import { findTemplateById, type TemplateRow } from '../templates/queries.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { buildOneToOneModal, buildOneToOneNoticeModal, cannotEmailText, LEAD_ERASED_TEXT, NO_POSTAL_ADDRESS_TEXT, FROM_NAME_MAX_CHARS } from './build-one-to-one-modal.ts';
import { draftFollowUp } from './draft-follow-up.ts';

type ButtonClick = Pick<SlackActionMiddlewareArgs<BlockButtonAction>, 'body' | 'action' | 'respond'>;

/**
 * "Email 1:1" on a hot-lead alert (acked already): reps, marketers and admins get the form, prefilled for
 * the alert's lead in the rep's name; others are told why not, privately. The trigger id expires ~3 s
 * after the click, so the reads run side by side and the form opens before anything else.
 */
export async function openOneToOneModal(services: Services, { body, action, respond }: ButtonClick): Promise<void> {
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const teamId = body.team?.id;
  const alertId = AlertIdSchema.safeParse(action.value);
  if (!teamId || !alertId.success) return void (await tell(ALERT_GONE_TEXT));
  const userId = body.user.id;

  const [denied, rep, found] = await Promise.all([
    requireRole(services, teamId, userId, ['rep', 'marketer'], 'Emailing a lead 1:1').then(
      () => undefined,
      (error: unknown) => (error instanceof PermissionDeniedError ? error : Promise.reject(error)),
    ),
    slackProfileOf(services, userId),
    recipientOf(services, teamId, alertId.data),
  ]);
  if (denied) return void (await tell(denied.message));
  const view =
    'notice' in found
      ? buildOneToOneNoticeModal(found.notice)
      : buildOneToOneModal({
          metadata: { alertId: alertId.data, leadId: found.lead.id },
          to: found.lead,
          fromName: rep.name,
          replyTo: rep.email,
          draft: draftFollowUp(found.template, found.lead, rep.name),
        });
  await services.slack.views.open({ trigger_id: body.trigger_id, view });
}

/** The alert's lead and the channel's follow-up template; or why no email can go (shown instead of the form). */
async function recipientOf(services: Services, teamId: string, alertId: number): Promise<{ notice: string } | { lead: SendingLead; template: TemplateRow | undefined }> {
  const { sql } = services;
  const alert = await findAlert(sql, teamId, alertId);
  if (!alert) return { notice: ALERT_GONE_TEXT };
  const [[lead], channel, settings] = await Promise.all([
    leadsForSending(sql, teamId, [alert.leadId]),
    findAlertChannel(sql, teamId, alert.channelId),
    getWorkspaceSettings(sql, teamId),
  ]);
  if (!lead) return { notice: LEAD_ERASED_TEXT };
  if (lead.status !== 'subscribed') return { notice: cannotEmailText(lead, lead.status) };
  if (!settings.postalAddress) return { notice: NO_POSTAL_ADDRESS_TEXT };
  const templateId = channel?.settings.followUpTemplateId;
  // A template deleted since the channel named it: the built-in follow-up.
  return { lead, template: templateId ? await findTemplateById(sql, teamId, templateId) : undefined };
}

interface SlackProfile {
  /** The rep's real name (empty when Slack has none). */
  name: string;
  /** Their address from the Slack profile (empty without one, or without users:read.email). */
  email: string;
}

async function slackProfileOf(services: Services, userId: string): Promise<SlackProfile> {
  const { user } = await services.slack.users.info({ user: userId });
  const name = (user?.real_name || user?.profile?.real_name || user?.name || '').trim().slice(0, FROM_NAME_MAX_CHARS);
  return { name, email: user?.profile?.email?.trim() ?? '' };
}
