import type { App, BlockAction, BlockButtonAction, BlockElementAction, BlockSuggestion, ViewSubmitAction } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { confirmSegmentDelete } from './confirm-segment-delete.ts';
import { submitSegmentBuilder } from './submit-segment-builder.ts';
import { suggestSegmentValues } from './suggest-segment-values.ts';
import { changeSegmentBuilder, type BuilderChange, type BuilderView } from './update-segment-builder.ts';

/** The segment builder's interactions, its Save, its type-ahead menus, and the delete confirmation. */
export function registerSegments(app: App, services: Services) {
  /** Every builder interaction: ack at once, then update the view (and its preview) after. */
  const onBuilder = (actionId: string, toChange: (action: BlockElementAction) => BuilderChange | undefined) =>
    app.action<BlockAction>(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const change = toChange(action);
      if (!change || !body.view) return;
      await changeSegmentBuilder(services, client, body.team?.id ?? body.view.team_id, body.view as unknown as BuilderView, change);
    });

  onBuilder(ActionIds.segmentField, (action) => (action.type === 'static_select' ? { kind: 'field', field: action.selected_option.value } : undefined));
  onBuilder(ActionIds.segmentAttribute, (action) => (action.type === 'external_select' && action.selected_option?.value ? { kind: 'attribute', name: action.selected_option.value } : undefined));
  onBuilder(ActionIds.segmentOperator, (action) => (action.type === 'static_select' ? { kind: 'operator', op: action.selected_option.value } : undefined));
  onBuilder(ActionIds.segmentConditionAdd, () => ({ kind: 'add' }));
  onBuilder(ActionIds.segmentConditionRemove, (action) => (action.type === 'button' ? { kind: 'remove', index: Number(action.value) } : undefined));
  onBuilder(ActionIds.segmentSuppressedInput, () => ({ kind: 'suppressed' }));

  for (const actionId of [ActionIds.segmentAttribute, ActionIds.segmentValueOptions, ActionIds.segmentEventOptions, ActionIds.segmentPageOptions]) {
    // Slack wants the options in the answer to this request, within 3 s.
    app.options<'block_suggestion'>({ type: 'block_suggestion', action_id: actionId }, async ({ ack, body }) => {
      const suggestion = body as BlockSuggestion;
      const options = await suggestSegmentValues(services, {
        teamId: suggestion.team?.id ?? suggestion.view?.team_id ?? '',
        actionId,
        typed: suggestion.value ?? '',
        metadata: suggestion.view?.private_metadata,
      });
      await ack({ options });
    });
  }

  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.segmentBuilder }, (args) => submitSegmentBuilder(services, args));

  app.action<BlockButtonAction>(ActionIds.segmentDeleteConfirm, async ({ ack, body, action, respond }) => {
    await ack();
    await confirmSegmentDelete(services, { body, action, respond });
  });
}
