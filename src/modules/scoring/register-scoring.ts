import type { App, ViewSubmitAction } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { CallbackIds } from '../../slack/ids.ts';
import { submitScoringModal } from './submit-scoring-modal.ts';

export function registerScoring(app: App, services: Services) {
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.scoringModal }, (args) => submitScoringModal(services, args));
}
