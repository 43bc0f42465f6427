import type { App, BlockButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { sendPreviewTest } from './send-preview-test.ts';
import { submitTemplateEditor } from './submit-template-editor.ts';

/** The template editor's Save and the preview's "Send me a test". */
export function registerTemplates(app: App, services: Services) {
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.templateEditor }, (args) => submitTemplateEditor(services, args));

  app.action<BlockButtonAction>(ActionIds.templateSendTest, async ({ ack, body, action, respond }) => {
    // Rendering and sending take longer than Slack waits for the ack.
    await ack();
    await sendPreviewTest(services, { body, action, respond });
  });
}
