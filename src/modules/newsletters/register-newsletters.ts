import type { App, BlockButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { clickNewsletterButton, sendNewsletterTest, type CardDecision } from './click-newsletter-button.ts';
import { approveNewsletter, cancelNewsletter, rejectNewsletter, resumeNewsletter } from './decide-newsletter.ts';
import { submitNewsletterModal } from './submit-newsletter-modal.ts';

/** The newsletter form's submission and the send plan card's buttons. */
export function registerNewsletters(app: App, services: Services) {
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.newsletterModal }, (args) => submitNewsletterModal(services, args));

  const onCardButton = (actionId: string, decide: (services: Services, decision: CardDecision) => Promise<unknown>) =>
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      await clickNewsletterButton(services, { body, action, respond }, decide);
    });
  onCardButton(ActionIds.newsletterApprove, approveNewsletter);
  onCardButton(ActionIds.newsletterReject, rejectNewsletter);
  onCardButton(ActionIds.newsletterCancel, cancelNewsletter);
  onCardButton(ActionIds.newsletterResume, resumeNewsletter);

  app.action<BlockButtonAction>(ActionIds.newsletterSendTest, async ({ ack, body, action, respond }) => {
    await ack();
    await sendNewsletterTest(services, { body, action, respond });
  });
}
