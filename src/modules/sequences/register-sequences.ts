import type { App, BlockAction, BlockButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import {
  changeStepFromBuilder,
  openDetailsFromBuilder,
  openStepFromBuilder,
  redrawDetailsForm,
  redrawStepForm,
  type BuilderClick,
} from './click-sequence-builder.ts';
import { confirmActivation, confirmArchive } from './confirm-sequence-action.ts';
import { submitSequenceDetails, submitSequenceStep } from './submit-sequence-builder.ts';

/** The sequence builder (its forms, buttons and choices), and the buttons under `activate` and `archive` answers. */
export function registerSequences(app: App, services: Services) {
  /** Every click in the builder or its forms: ack at once, then work. */
  const onBuilder = (actionId: string, handle: (click: BuilderClick) => Promise<void>) =>
    app.action<BlockAction>(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const value = action.type === 'button' ? action.value : action.type === 'static_select' ? action.selected_option?.value : undefined;
      await handle({ body, client, value });
    });

  onBuilder(ActionIds.sequenceEditDetails, (click) => openDetailsFromBuilder(services, click));
  onBuilder(ActionIds.sequenceAddStep, (click) => openStepFromBuilder(services, { ...click, value: undefined }));
  onBuilder(ActionIds.sequenceEditStep, (click) => openStepFromBuilder(services, click));
  onBuilder(ActionIds.sequenceMoveStepUp, (click) => changeStepFromBuilder(services, click, 'up'));
  onBuilder(ActionIds.sequenceMoveStepDown, (click) => changeStepFromBuilder(services, click, 'down'));
  onBuilder(ActionIds.sequenceRemoveStep, (click) => changeStepFromBuilder(services, click, 'remove'));
  // Choices that change which inputs a form shows.
  onBuilder(ActionIds.sequenceTriggerInput, (click) => redrawDetailsForm(services, click));
  onBuilder(ActionIds.sequenceReenrollInput, (click) => redrawDetailsForm(services, click));
  onBuilder(ActionIds.sequenceStepConditionInput, (click) => redrawStepForm(services, click));

  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.sequenceDetails }, (args) => submitSequenceDetails(services, args));
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.sequenceStep }, (args) => submitSequenceStep(services, args));

  app.action<BlockButtonAction>(ActionIds.sequenceActivate, async ({ ack, body, action, respond }) => {
    await ack();
    await confirmActivation(services, { body, action, respond }, false);
  });
  app.action<BlockButtonAction>(ActionIds.sequenceActivateEnrollMembers, async ({ ack, body, action, respond }) => {
    await ack();
    await confirmActivation(services, { body, action, respond }, true);
  });
  app.action<BlockButtonAction>(ActionIds.sequenceArchiveConfirm, async ({ ack, body, action, respond }) => {
    await ack();
    await confirmArchive(services, { body, action, respond });
  });
}
