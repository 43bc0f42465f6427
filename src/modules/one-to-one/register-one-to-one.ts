import type { App, BlockButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { openOneToOneModal } from './open-one-to-one-modal.ts';
import { submitOneToOneModal } from './submit-one-to-one-modal.ts';

/** "Email 1:1" on a hot-lead alert and its form's Send. */
export function registerOneToOne(app: App, services: Services) {
  app.action<BlockButtonAction>(ActionIds.alertEmail, async ({ ack, body, action, respond }) => {
    await ack();
    await openOneToOneModal(services, { body, action, respond });
  });
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.oneToOneModal }, (args) => submitOneToOneModal(services, args));
}
