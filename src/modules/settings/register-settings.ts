import type { App, ViewSubmitAction } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { CallbackIds } from '../../slack/ids.ts';
import { submitSettings } from './submit-settings.ts';

export function registerSettings(app: App, services: Services) {
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.settingsModal }, (args) => submitSettings(services, args));
}
