import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { PermissionDeniedError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { requireRole } from '../roles/roles.ts';
import { emailSender } from '../templates/email-sender.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { getWorkspaceSettings, updateWorkspaceSettings, type WorkspaceSettings, type WorkspaceSettingsChange } from '../workspaces/settings.ts';
import { buildSettingsSavedModal, SETTING_LIMITS, SettingsBlockIds } from './build-settings-modal.ts';
import { fieldErrors, readInputValues, type StateValues } from '../../slack/read-input-values.ts';
import { canonicalTimeZone } from './zoned-time.ts';

export const UNKNOWN_TIME_ZONE_TEXT = 'Not a time zone I know. Use an IANA name such as Europe/Berlin, America/New_York or Asia/Tokyo.';
export const WEEK_BELOW_DAY_TEXT = 'The 7-day cap cannot be lower than the daily cap.';

const wholeNumber = (label: string, { min, max }: { min: number; max: number }) =>
  z
    .string({ error: `Give ${label}.` })
    .regex(/^\d+$/, `${label[0]!.toUpperCase()}${label.slice(1)} is a whole number.`)
    .transform(Number)
    .pipe(z.number().min(min, `At least ${min}.`).max(max, `At most ${max.toLocaleString('en-US')}.`));

/** The settings form, read by block id (see readInputValues); empty optional fields clear the setting. */
export const SettingsSubmissionSchema = z
  .object({
    [SettingsBlockIds.timeZone]: z
      .string({ error: 'Give the time zone.' })
      .transform((name, ctx) => canonicalTimeZone(name) ?? (ctx.addIssue({ code: 'custom', message: UNKNOWN_TIME_ZONE_TEXT }), z.NEVER)),
    [SettingsBlockIds.senderName]: z
      .string()
      .max(SETTING_LIMITS.senderName.max, `At most ${SETTING_LIMITS.senderName.max} characters.`)
      .optional()
      .transform((value) => value ?? null),
    [SettingsBlockIds.postalAddress]: z
      .string()
      .min(SETTING_LIMITS.postalAddress.min, 'That is too short to be a postal address.')
      .max(SETTING_LIMITS.postalAddress.max, `At most ${SETTING_LIMITS.postalAddress.max} characters.`)
      .optional()
      .transform((value) => value ?? null),
    [SettingsBlockIds.capPerDay]: wholeNumber('the daily cap', SETTING_LIMITS.capPerDay),
    [SettingsBlockIds.capPerWeek]: wholeNumber('the 7-day cap', SETTING_LIMITS.capPerWeek),
    [SettingsBlockIds.selfApprovalBelow]: wholeNumber('the threshold', SETTING_LIMITS.selfApprovalBelow)
      .optional()
      .transform((value) => value ?? null),
    [SettingsBlockIds.sendExpiryMinutes]: wholeNumber('the minutes', SETTING_LIMITS.sendExpiryMinutes),
  })
  .refine((form) => form[SettingsBlockIds.capPerWeek] >= form[SettingsBlockIds.capPerDay], { message: WEEK_BELOW_DAY_TEXT, path: [SettingsBlockIds.capPerWeek] })
  .transform(
    (form): Required<WorkspaceSettingsChange> => ({
      timeZone: form[SettingsBlockIds.timeZone],
      senderName: form[SettingsBlockIds.senderName],
      postalAddress: form[SettingsBlockIds.postalAddress],
      capPerDay: form[SettingsBlockIds.capPerDay],
      capPerWeek: form[SettingsBlockIds.capPerWeek],
      selfApprovalBelow: form[SettingsBlockIds.selfApprovalBelow],
      sendExpiryMinutes: form[SettingsBlockIds.sendExpiryMinutes],
    }),
  );

type ViewSubmission = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

/**
 * The settings form's Save: validated (errors beside the fields), admins only (checked again: the role
 * may have changed since the form opened), saved and audited with what changed, then shown saved.
 */
export async function submitSettings(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const parsed = SettingsSubmissionSchema.safeParse(readInputValues(view.state.values as StateValues));
  if (!parsed.success) {
    await ack({ response_action: 'errors', errors: fieldErrors(parsed.error, SettingsBlockIds.timeZone) });
    return;
  }
  try {
    await requireRole(services, teamId, userId, ['admin'], 'Changing the sending settings');
  } catch (error) {
    if (!(error instanceof PermissionDeniedError)) throw error;
    await ack({ response_action: 'errors', errors: { [SettingsBlockIds.timeZone]: error.message } });
    return;
  }
  const saved = await services.sql.begin(async (tx) => {
    const before = await getWorkspaceSettings(tx, teamId);
    const after = await updateWorkspaceSettings(tx, teamId, parsed.data);
    const changed = changesBetween(before, after);
    if (Object.keys(changed).length > 0) {
      await recordAudit(tx, { teamId, actorUserId: userId, action: 'settings.changed', details: changed });
    }
    return after;
  });
  await ack({ response_action: 'update', view: buildSettingsSavedModal(saved, emailSender(services.config, { senderName: null }).name) });
  services.logger.info({ teamId, userId }, 'sending settings saved');
}

/** `{ capPerDay: { from: 1, to: 2 } }` for each setting that changed. */
function changesBetween(before: WorkspaceSettings, after: WorkspaceSettings): Record<string, { from: unknown; to: unknown }> {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as Array<keyof WorkspaceSettings>) {
    if (before[key] !== after[key]) changed[key] = { from: before[key], to: after[key] };
  }
  return changed;
}
