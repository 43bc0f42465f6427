import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { PermissionDeniedError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { fieldErrors, readInputValues, type StateValues } from '../../slack/read-input-values.ts';
import { requireRole } from '../roles/roles.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { AlertChannelSettingsSchema } from './alert-channel.ts';
import { AlertChannelBlockIds as Ids } from './build-alert-channel-modal.ts';
import { describeAlertChannel } from './describe-alert-channel.ts';
import { saveAlertChannel } from './queries.ts';

export const QUIET_HOURS_BOTH_TEXT = 'Give both ends of the quiet hours, or neither.';
export const OWNERS_NEEDED_TEXT = 'Pick the owners, or choose another "Whose leads".';

const ChannelIdSchema = z.string().regex(/^[CG][A-Z0-9]+$/);

/** The multi-value elements (checkboxes, people) by block id; readInputValues reads the one-value ones. */
function readMany(values: StateValues | undefined, blockId: string): string[] {
  const state = Object.values(values?.[blockId] ?? {})[0] as { selected_options?: Array<{ value: string }>; selected_users?: string[] } | undefined;
  return state?.selected_users ?? state?.selected_options?.map((selected) => selected.value) ?? [];
}

/** The form as the channel's settings, or the errors to show beside its fields. */
export function readAlertChannelForm(values: StateValues | undefined) {
  const one = readInputValues(values);
  const number = (blockId: string) => (one[blockId] === undefined ? null : Number(one[blockId]));
  const errors: Record<string, string> = {};
  const from = one[Ids.quietFrom];
  const to = one[Ids.quietTo];
  if ((from === undefined) !== (to === undefined)) errors[from === undefined ? Ids.quietFrom : Ids.quietTo] = QUIET_HOURS_BOTH_TEXT;
  const owner = one[Ids.owner] ?? 'any';
  const ownerUserIds = readMany(values, Ids.ownerUserIds);
  if (owner === 'listed' && ownerUserIds.length === 0) errors[Ids.ownerUserIds] = OWNERS_NEEDED_TEXT;
  const candidate = {
    threshold: number(Ids.threshold),
    segmentId: number(Ids.segmentId),
    owner,
    ownerUserIds: owner === 'listed' ? ownerUserIds : [],
    stages: readMany(values, Ids.stages),
    quietHours: from && to ? { from, to } : null,
    quietWeekends: readMany(values, Ids.quietWeekends).includes('yes'),
    coolDownDays: number(Ids.coolDownDays),
    remindAfterMinutes: number(Ids.remindAfterMinutes),
    claimHoldDays: number(Ids.claimHoldDays),
    followUpTemplateId: number(Ids.followUpTemplateId),
  };
  const parsed = AlertChannelSettingsSchema.safeParse(candidate);
  if (!parsed.success) {
    // Issue paths are setting names; the form's block ids are looked up from them.
    const byField = fieldErrors(parsed.error, 'threshold');
    for (const [field, message] of Object.entries(byField)) {
      const blockId = field === 'quietHours' ? Ids.quietFrom : (Ids as Record<string, string>)[field] ?? Ids.threshold;
      errors[blockId] ??= message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false as const, errors };
  return { ok: true as const, settings: parsed.data };
}

type ViewSubmission = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

/** Save: checked beside the fields, marketers and admins only (checked again), audited, and said in the channel. */
export async function submitAlertChannelModal(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const channelId = ChannelIdSchema.safeParse(view.private_metadata);
  const form = readAlertChannelForm(view.state.values as StateValues);
  if (!form.ok || !channelId.success) {
    await ack({ response_action: 'errors', errors: form.ok ? { [Ids.threshold]: 'This form lost its channel: run /nurture alerts in the channel again.' } : form.errors });
    return;
  }
  try {
    await requireRole(services, teamId, userId, ['marketer'], 'Setting up hot-lead alerts');
  } catch (error) {
    if (!(error instanceof PermissionDeniedError)) throw error;
    await ack({ response_action: 'errors', errors: { [Ids.threshold]: error.message } });
    return;
  }
  await services.sql.begin(async (tx) => {
    await saveAlertChannel(tx, teamId, channelId.data, form.settings, userId);
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'alerts.channel_set', subject: channelId.data, details: form.settings });
  });
  await ack();
  const summary = await describeAlertChannel(services.sql, teamId, form.settings);
  await services.slack.chat.postMessage({ channel: channelId.data, text: `:fire: <@${userId}> set up hot-lead alerts here: ${summary}` });
  services.logger.info({ teamId, userId, channelId: channelId.data }, 'alert channel saved');
}
