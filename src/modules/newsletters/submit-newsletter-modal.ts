import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { clip } from '../../slack/mrkdwn.ts';
import { requireRole } from '../roles/roles.ts';
import { findSegmentById, type SegmentRow } from '../segments/queries.ts';
import { fieldErrors, readInputValues, type StateValues } from '../../slack/read-input-values.ts';
import { formatInZone, wallTimeToInstant } from '../settings/zoned-time.ts';
import { compileTemplate, TemplateInvalidError } from '../templates/compile-template.ts';
import { emailSender } from '../templates/email-sender.ts';
import { findTemplateById, templateContentOf } from '../templates/queries.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { getWorkspaceSettings, type WorkspaceSettings } from '../workspaces/settings.ts';
import { buildNewsletterCard } from './build-newsletter-card.ts';
import {
  buildNewsletterNoticeModal,
  inviteBotText,
  NewsletterBlockIds,
  NewsletterModalMetadataSchema,
  planFailedText,
  planPostedText,
  PLANNING_TEXT,
  WHEN_LATER,
  WHEN_NOW,
} from './build-newsletter-modal.ts';
import type { NewsletterContent } from './newsletter.ts';
import { CANNOT_POST_CODES, slackErrorCode } from '../../slack/slack-errors.ts';
import { loadCardFacts } from './newsletter-card.ts';
import { planNewsletter } from './plan-newsletter.ts';
import { deleteUnpostedNewsletter, insertNewsletter, setCardMessage } from './queries.ts';

export const NO_POSTAL_ADDRESS_TEXT =
  'The workspace has no postal address yet, and the law requires one in every marketing email. An admin sets it with `/nurture settings`.';
export const TEMPLATE_GONE_TEXT = 'That template no longer exists. Choose another.';
export const SEGMENT_GONE_TEXT = 'That segment no longer exists. Choose another.';
export const pastTimeText = (now: string) => `That time has passed: it is ${now} now. Pick a later time, or "Now".`;
export const skippedTimeText = (timeZone: string) => `That time does not exist in ${timeZone} that day: the clocks skip it. Pick another.`;

/** A moment of slack for "later" picked as the current minute. */
const PAST_TOLERANCE_MS = 60_000;
/** Slack's error bubble under a field is short. */
const FIELD_ERROR_MAX = 500;

const id = (missing: string) => z.string({ error: missing }).regex(/^\d+$/, missing).transform(Number);

/** The form, read by block id (see readInputValues): ids of the chosen template and segment, and when. */
export const NewsletterSubmissionSchema = z
  .object({
    [NewsletterBlockIds.template]: id('Choose a template.'),
    [NewsletterBlockIds.segment]: id('Choose a segment.'),
    [NewsletterBlockIds.when]: z.enum([WHEN_NOW, WHEN_LATER], { error: 'Say when it goes out.' }),
    [NewsletterBlockIds.date]: z.iso.date({ error: 'Pick a day.' }).optional(),
    [NewsletterBlockIds.time]: z.string().regex(/^\d{2}:\d{2}$/, 'Pick a time.').optional(),
  })
  .superRefine((form, ctx) => {
    if (form[NewsletterBlockIds.when] !== WHEN_LATER) return;
    if (!form[NewsletterBlockIds.date]) ctx.addIssue({ code: 'custom', path: [NewsletterBlockIds.date], message: 'Pick the day it goes out.' });
    if (!form[NewsletterBlockIds.time]) ctx.addIssue({ code: 'custom', path: [NewsletterBlockIds.time], message: 'Pick the time it goes out.' });
  });

type ViewSubmission = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

/** A refusal shown beside a field of the form. */
class FieldError extends UserFacingError {
  readonly blockId: string;
  constructor(blockId: string, message: string) {
    super(message);
    this.blockId = blockId;
  }
}

/**
 * The form's "Make the plan": everything that can be refused is checked before the ack (within Slack's
 * 3 s, shown beside the fields). Then the modal says it is counting, the plan is made, the newsletter
 * stored and its card posted in the channel; the modal ends saying where, or that I must be invited.
 */
export async function submitNewsletterModal(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const parsed = NewsletterSubmissionSchema.safeParse(readInputValues(view.state.values as StateValues));
  const metadata = NewsletterModalMetadataSchema.safeParse(safeJson(view.private_metadata));
  if (!parsed.success || !metadata.success) {
    await ack({ response_action: 'errors', errors: parsed.success ? { [NewsletterBlockIds.template]: 'This form is out of date: close it and run the command again.' } : fieldErrors(parsed.error, NewsletterBlockIds.template) });
    return;
  }
  const now = services.clock.now();
  let checked: Awaited<ReturnType<typeof checkRequest>>;
  try {
    checked = await checkRequest(services, { teamId, userId, form: parsed.data, now });
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    const blockId = error instanceof FieldError ? error.blockId : NewsletterBlockIds.template;
    await ack({ response_action: 'errors', errors: { [blockId]: clip(error.message, FIELD_ERROR_MAX) } });
    return;
  }
  await ack({ response_action: 'update', view: buildNewsletterNoticeModal(PLANNING_TEXT) });

  const { channelId } = metadata.data;
  const tell = (text: string) =>
    services.slack.views.update({ view_id: view.id, view: buildNewsletterNoticeModal(text) }).catch(async () => {
      // The person closed the modal meanwhile: a direct message instead.
      await services.slack.chat.postMessage({ channel: userId, text });
    });
  try {
    const outcome = await makePlan(services, { teamId, userId, channelId, ...checked, now });
    await tell(outcome.posted ? planPostedText(channelId, outcome.newsletterId) : inviteBotText(channelId));
  } catch (error) {
    await tell(planFailedText(error instanceof UserFacingError ? error.message : 'something went wrong on our side; you have a direct message with a reference.'));
    throw error;
  }
}

interface CheckedRequest {
  settings: WorkspaceSettings & { postalAddress: string };
  template: { id: number; content: ReturnType<typeof templateContentOf> };
  segment: SegmentRow;
  sendAt: Date;
}

/** Who may, what is sent, to whom, when: everything the form can be refused for. */
async function checkRequest(
  services: Services,
  input: { teamId: string; userId: string; form: z.infer<typeof NewsletterSubmissionSchema>; now: Date },
): Promise<CheckedRequest> {
  const { teamId, userId, form, now } = input;
  await requireRole(services, teamId, userId, ['marketer'], 'Planning a newsletter');
  const settings = await getWorkspaceSettings(services.sql, teamId);
  if (!settings.postalAddress) throw new FieldError(NewsletterBlockIds.template, NO_POSTAL_ADDRESS_TEXT);

  const template = await findTemplateById(services.sql, teamId, form[NewsletterBlockIds.template]);
  if (!template) throw new FieldError(NewsletterBlockIds.template, TEMPLATE_GONE_TEXT);
  const content = templateContentOf(template);
  try {
    compileTemplate(content);
  } catch (error) {
    if (error instanceof TemplateInvalidError) throw new FieldError(NewsletterBlockIds.template, `${error.message}\nFix it with \`/nurture template edit\`.`);
    throw error;
  }
  const segment = await findSegmentById(services.sql, teamId, form[NewsletterBlockIds.segment]);
  if (!segment) throw new FieldError(NewsletterBlockIds.segment, SEGMENT_GONE_TEXT);

  let sendAt = now;
  if (form[NewsletterBlockIds.when] === WHEN_LATER) {
    const instant = wallTimeToInstant({ date: form[NewsletterBlockIds.date]!, time: form[NewsletterBlockIds.time]! }, settings.timeZone);
    if (!instant.ok) throw new FieldError(NewsletterBlockIds.time, skippedTimeText(settings.timeZone));
    if (instant.instant.getTime() < now.getTime() - PAST_TOLERANCE_MS) throw new FieldError(NewsletterBlockIds.time, pastTimeText(formatInZone(now, settings.timeZone)));
    sendAt = instant.instant;
  }
  return { settings: { ...settings, postalAddress: settings.postalAddress }, template: { id: template.id, content }, segment, sendAt };
}

/** Plans, stores and posts; a card that cannot be posted leaves nothing behind. */
async function makePlan(
  services: Services,
  input: CheckedRequest & { teamId: string; userId: string; channelId: string; now: Date },
): Promise<{ posted: true; newsletterId: number } | { posted: false }> {
  const { teamId, userId, channelId, settings, template, segment, sendAt, now } = input;
  const plan = await planNewsletter(services, { teamId, segment, settings, now });
  const content: NewsletterContent = {
    template: template.content,
    senderName: emailSender(services.config, settings).name,
    postalAddress: settings.postalAddress,
    plan,
  };
  const newsletter = await insertNewsletter(services.sql, {
    teamId,
    templateId: template.id,
    segmentId: segment.id,
    content,
    sendAt,
    requestedBy: userId,
    channelId,
    plannedCount: plan.planned,
  });
  const card = buildNewsletterCard(await loadCardFacts(services, newsletter));
  let ts: string | undefined;
  try {
    ts = (await services.slack.chat.postMessage({ channel: channelId, text: card.text, blocks: card.blocks })).ts;
  } catch (error) {
    await deleteUnpostedNewsletter(services.sql, teamId, newsletter.id);
    if (CANNOT_POST_CODES.has(slackErrorCode(error) ?? '')) {
      services.logger.info({ teamId, userId, channelId, error: slackErrorCode(error) }, 'send plan not posted: the bot cannot post in that channel');
      return { posted: false };
    }
    throw error;
  }
  await services.sql.begin(async (tx) => {
    await setCardMessage(tx, teamId, newsletter.id, ts!);
    await recordAudit(tx, {
      teamId,
      actorUserId: userId,
      action: 'newsletter.requested',
      subject: String(newsletter.id),
      details: { template: template.content.name, segment: segment.name, sendAt: sendAt.toISOString(), planned: plan.planned },
    });
  });
  services.logger.info({ teamId, userId, newsletterId: newsletter.id, planned: plan.planned }, 'newsletter planned');
  return { posted: true, newsletterId: newsletter.id };
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}
