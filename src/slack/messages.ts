import type { RespondFn } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';

/** Text people see when something fails. Tests assert on these. */

export const unexpectedErrorText = (referenceId: string) =>
  `:warning: Sorry, something went wrong on our side and nothing was changed. If it happens again, give your admin this reference: *${referenceId}*.`;

export const unknownSubcommandText = (given: string, suggestion?: string) =>
  `I don't know \`/nurture ${given}\`.${suggestion ? ` Did you mean \`/nurture ${suggestion}\`?` : ''} Type \`/nurture help\` to see everything I can do.`;

/** A message as builders return it: the notification text, and the blocks people see. */
export interface SlackMessage {
  text: string;
  blocks?: KnownBlock[];
}

/** Answers a command or a click to the person alone (its response_url). */
export async function replyEphemeral(context: { respond: RespondFn }, message: SlackMessage): Promise<void> {
  await context.respond({ response_type: 'ephemeral', ...message });
}
