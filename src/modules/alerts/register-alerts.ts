import type { App, BlockAction, BlockButtonAction, BlockOverflowAction, ViewSubmitAction } from '@slack/bolt';
import type { RespondFn } from '@slack/bolt';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { AlertIdSchema, ALERT_GONE_TEXT, claimAlert, markAlertNotAFit, redrawAlertMessage, snoozeAlert, SnoozeValueSchema, type AlertAction } from './act-on-alert.ts';
import { submitAlertChannelModal } from './submit-alert-channel-modal.ts';

/** The alert channel form and the buttons on alerts: ack at once, act, then redraw the message for everyone. */
export function registerAlerts(app: App, services: Services) {
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: CallbackIds.alertChannelModal }, (args) => submitAlertChannelModal(services, args));

  const onButton = (actionId: string, act: (services: Services, action: AlertAction) => Promise<unknown>) =>
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const alertId = AlertIdSchema.safeParse(action.value);
      await actOnAlert(services, body, respond, alertId.success ? alertId.data : undefined, (base) => act(services, base));
    });
  onButton(ActionIds.alertClaim, claimAlert);
  onButton(ActionIds.alertNotAFit, markAlertNotAFit);

  app.action<BlockOverflowAction>(ActionIds.alertSnooze, async ({ ack, body, action, respond }) => {
    await ack();
    const choice = SnoozeValueSchema.safeParse(action.selected_option.value);
    await actOnAlert(services, body, respond, choice.success ? choice.data[0] : undefined, (base) => snoozeAlert(services, { ...base, minutes: choice.data![1] }));
  });
}

async function actOnAlert(services: Services, body: BlockAction, respond: RespondFn, alertId: number | undefined, act: (action: AlertAction) => Promise<unknown>): Promise<void> {
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const teamId = body.team?.id;
  if (!teamId || alertId === undefined) return void (await tell(ALERT_GONE_TEXT));
  try {
    await act({ teamId, userId: body.user.id, alertId });
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    await tell(error.message);
    return;
  }
  const channelId = body.channel?.id;
  const messageTs = body.message?.ts;
  if (channelId && messageTs) await redrawAlertMessage(services, teamId, channelId, messageTs);
}
