import type { BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { requireRole } from '../roles/roles.ts';
import { compileTemplate } from '../templates/compile-template.ts';
import { sendTestEmail } from '../templates/send-test-email.ts';
import { NEWSLETTER_GONE_TEXT } from './decide-newsletter.ts';
import { refreshNewsletterCard } from './newsletter-card.ts';
import { findNewsletter } from './queries.ts';
import { requestCardUpdate } from './update-newsletter-card-queue.ts';

type ButtonClick = Pick<SlackActionMiddlewareArgs<BlockButtonAction>, 'body' | 'action' | 'respond'>;

export interface CardDecision {
  teamId: string;
  userId: string;
  newsletterId: number;
}

const NewsletterIdSchema = z.string().regex(/^\d{1,15}$/).transform(Number);

/**
 * A button on the send plan card. Refusals (the wrong person, too late, someone was quicker) reach only
 * the person who clicked; a change is shown to everyone by updating the card.
 */
export async function clickNewsletterButton(services: Services, { body, action, respond }: ButtonClick, decide: (services: Services, decision: CardDecision) => Promise<unknown>): Promise<void> {
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const teamId = body.team?.id;
  const newsletterId = NewsletterIdSchema.safeParse(action.value);
  if (!teamId || !newsletterId.success) return void (await tell(NEWSLETTER_GONE_TEXT));
  const decision = { teamId, userId: body.user.id, newsletterId: newsletterId.data };
  try {
    await decide(services, decision);
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    await tell(error.message);
    return;
  }
  await refreshNewsletterCard(services, teamId, decision.newsletterId);
  // A progress update already on its way may have read the newsletter before this change: one more after it.
  await requestCardUpdate(services, teamId, decision.newsletterId);
}

/** "Send me a test": the newsletter's own content (what was approved), to the person's Slack address. */
export async function sendNewsletterTest(services: Services, { body, action, respond }: ButtonClick): Promise<void> {
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const teamId = body.team?.id;
  const newsletterId = NewsletterIdSchema.safeParse(action.value);
  const newsletter = teamId && newsletterId.success ? await findNewsletter(services.sql, teamId, newsletterId.data) : undefined;
  if (!teamId || !newsletter) return void (await tell(NEWSLETTER_GONE_TEXT));
  try {
    await requireRole(services, teamId, body.user.id, ['marketer'], 'Sending a test of a newsletter');
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    return void (await tell(error.message));
  }
  // What the approver tests is what goes out: the snapshot's template and sender, not today's settings.
  const { template, senderName, postalAddress } = newsletter.content;
  const result = await sendTestEmail(services, { teamId, userId: body.user.id, template: compileTemplate(template), sender: { name: senderName, postalAddress } });
  await tell(result.text);
}
