import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { PermissionDeniedError, UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';
import { fieldErrors, readInputValues, type StateValues } from '../../slack/read-input-values.ts';
import { claimAlert, redrawAlertMessage } from '../alerts/act-on-alert.ts';
import { findAlert } from '../alerts/queries.ts';
import { requireRole } from '../roles/roles.ts';
import { TemplateInvalidError } from '../templates/compile-template.ts';
import { describeProblems } from '../templates/validate-template.ts';
import { parseJsonText } from '../templates/parse-json-text.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import {
  buildOneToOneNoticeModal,
  cannotEmailText,
  emailAlreadySentText,
  emailQueuedText,
  FORM_STALE_TEXT,
  FROM_NAME_MAX_CHARS,
  LEAD_ERASED_TEXT,
  NO_POSTAL_ADDRESS_TEXT,
  OneToOneBlockIds,
  OneToOneMetadataSchema,
  recipientName,
  REPLY_TO_MAX_CHARS,
} from './build-one-to-one-modal.ts';
import { SUBJECT_MAX_CHARS } from './draft-follow-up.ts';
import { compileOneToOne, type OneToOneContent } from './one-to-one-template.ts';
import { queueOneToOne } from './queue-one-to-one.ts';

/** one_to_one_emails.body: more than a Slack form holds, so only a forged submission meets it. */
const BODY_MAX_CHARS = 20_000;

/** The form, read by block id (see readInputValues). */
export const OneToOneSubmissionSchema = z.object({
  [OneToOneBlockIds.fromName]: z.string({ error: 'Say whose name the email comes from.' }).max(FROM_NAME_MAX_CHARS, `At most ${FROM_NAME_MAX_CHARS} characters.`),
  [OneToOneBlockIds.replyTo]: z
    .email({ error: 'Give the address replies go to, e.g. rita@yourcompany.com.' })
    .max(REPLY_TO_MAX_CHARS, `At most ${REPLY_TO_MAX_CHARS} characters.`),
  [OneToOneBlockIds.subject]: z.string({ error: 'Write a subject.' }).max(SUBJECT_MAX_CHARS, `At most ${SUBJECT_MAX_CHARS} characters.`),
  [OneToOneBlockIds.body]: z.string({ error: 'Write the email.' }).max(BODY_MAX_CHARS, `At most ${BODY_MAX_CHARS.toLocaleString('en-US')} characters.`),
});

export interface OneToOneSubmission extends OneToOneContent {
  fromName: string;
  replyTo: string;
}

/** The form's values, or what to show beside which field: the schema's bounds, then what templates refuse. */
export function readOneToOneForm(values: Record<string, string | undefined>): { ok: true; email: OneToOneSubmission } | { ok: false; errors: Record<string, string> } {
  const parsed = OneToOneSubmissionSchema.safeParse(values);
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error, OneToOneBlockIds.body) };
  const email = {
    fromName: parsed.data[OneToOneBlockIds.fromName],
    replyTo: parsed.data[OneToOneBlockIds.replyTo],
    subject: parsed.data[OneToOneBlockIds.subject],
    body: parsed.data[OneToOneBlockIds.body],
  };
  try {
    compileOneToOne(email);
  } catch (error) {
    if (!(error instanceof TemplateInvalidError)) throw error;
    const errors: Record<string, string> = {};
    for (const problem of error.problems) {
      const blockId = problem.field === 'subject' ? OneToOneBlockIds.subject : OneToOneBlockIds.body;
      errors[blockId] ??= describeProblems([problem]);
    }
    return { ok: false, errors };
  }
  return { ok: true, email };
}

type ViewSubmission = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

/**
 * "Send" on the Email 1:1 form: checked beside the fields, the role checked again, then written, put in
 * the send ledger and queued in one transaction (queue-one-to-one.ts) before the ack, which shows the
 * outcome in the modal. The alert's thread hears of it afterwards.
 */
export async function submitOneToOneModal(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const notice = (text: string) => ack({ response_action: 'update', view: buildOneToOneNoticeModal(text) });
  const metadata = parseJsonText(OneToOneMetadataSchema, view.private_metadata);
  if (!metadata.success) return void (await notice(FORM_STALE_TEXT));
  const form = readOneToOneForm(readInputValues(view.state.values as StateValues));
  if (!form.ok) return void (await ack({ response_action: 'errors', errors: form.errors }));
  try {
    await requireRole(services, teamId, userId, ['rep', 'marketer'], 'Emailing a lead 1:1');
  } catch (error) {
    if (!(error instanceof PermissionDeniedError)) throw error;
    return void (await ack({ response_action: 'errors', errors: { [OneToOneBlockIds.fromName]: error.message } }));
  }
  const [settings, alert] = await Promise.all([getWorkspaceSettings(services.sql, teamId), findAlert(services.sql, teamId, metadata.data.alertId)]);
  if (!settings.postalAddress) return void (await notice(NO_POSTAL_ADDRESS_TEXT));

  const { leadId } = metadata.data;
  const { fromName, replyTo, subject, body: text } = form.email;
  const queued = await queueOneToOne(services, { teamId, leadId, alertId: alert?.id ?? null, senderUser: userId, senderName: fromName, replyTo, subject, body: text });
  switch (queued.kind) {
    case 'erased':
      return void (await notice(LEAD_ERASED_TEXT));
    case 'not-subscribed':
      return void (await notice(cannotEmailText(queued.lead, queued.lead.status)));
    case 'duplicate':
      return void (await notice(emailAlreadySentText(queued.lead)));
    case 'queued':
      await notice(emailQueuedText(queued.lead));
  }
  services.logger.info({ teamId, userId, leadId, alertId: alert?.id, oneToOneId: queued.id }, '1:1 email queued');
  if (!alert?.messageTs) return;
  if (alert.status === 'posted') await claimByWriting(services, teamId, userId, alert.id, alert.channelId, alert.messageTs);
  await services.slack.chat
    .postMessage({ channel: alert.channelId, thread_ts: alert.messageTs, text: emailedInThreadText(userId, recipientName(queued.lead), subject) })
    .catch((error: unknown) => services.logger.warn({ err: error, teamId, alertId: alert.id }, 'could not tell the alert’s thread about the 1:1 email'));
}

/**
 * A rep who writes to an unclaimed lead is on it: the alert is claimed for them (nurture paused, the
 * message says so), so nobody else follows up over them. A marketer without the rep role just sends.
 */
async function claimByWriting(services: Services, teamId: string, userId: string, alertId: number, channelId: string, messageTs: string): Promise<void> {
  try {
    await claimAlert(services, { teamId, userId, alertId });
  } catch (error) {
    if (error instanceof UserFacingError) return;
    throw error;
  }
  await redrawAlertMessage(services, teamId, channelId, messageTs);
}

/** In the alert's thread, after a rep's 1:1 email. */
export const emailedInThreadText = (userId: string, leadName: string, subject: string) =>
  `<@${userId}> emailed ${escapeMrkdwn(leadName)} 1:1: “${escapeMrkdwn(subject)}”`;
