import type { StoredMessage } from './fake-slack.ts';
import { replyText } from './slack-replies.ts';
import type { TestApp } from './test-app.ts';
import { waitFor } from './wait-for.ts';

/** An element a person acts on in a channel message: a button (its value) or an overflow menu's option. */
export type MessageElement = { actionId: string; blockId?: string } & ({ value: string } | { overflowValue: string });

/**
 * A person acts on a message in a channel (a card, an alert): the block_actions Slack sends, with the
 * message as the channel shows it. Resolves with what only they were told (an ephemeral reply), or
 * undefined when the click was taken and the message redrawn for everyone (chat.update).
 */
export async function actOnMessage(app: TestApp, userId: string, message: Pick<StoredMessage, 'channel' | 'ts'>, element: MessageElement): Promise<string | undefined> {
  const shown = app.slack.messages.find((candidate) => candidate.channel === message.channel && candidate.ts === message.ts);
  const responseUrl = app.slack.responseUrl();
  const since = app.slack.calls.length;
  const blockId = element.blockId ?? 'actions';
  const action =
    'overflowValue' in element
      ? { type: 'overflow', action_id: element.actionId, block_id: blockId, selected_option: { text: { type: 'plain_text', text: 'Option' }, value: element.overflowValue }, action_ts: '1.1' }
      : { type: 'button', action_id: element.actionId, block_id: blockId, value: element.value, action_ts: '1.1', text: { type: 'plain_text', text: 'OK' } };
  await app.interaction({
    type: 'block_actions',
    user: { id: userId, team_id: app.slack.teamId },
    team: { id: app.slack.teamId, domain: app.slack.teamDomain },
    api_app_id: app.slack.appId,
    trigger_id: app.slack.newTriggerId(),
    response_url: responseUrl,
    container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
    channel: { id: message.channel, name: 'channel' },
    message: shown ? { type: 'message', ts: shown.ts, text: shown.text, blocks: shown.blocks } : { type: 'message', ts: message.ts },
    actions: [action],
  });
  const outcome = await waitFor(
    () =>
      app.slack.responses.find((response) => response.url === responseUrl) ??
      app.slack.calls.slice(since).find((call) => call.method === 'chat.update' && call.ok && call.args.ts === message.ts),
    { description: `an answer to ${element.actionId}` },
  );
  return 'url' in outcome ? replyText(outcome.body) : undefined;
}
