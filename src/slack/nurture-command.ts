import type { App, SlashCommand } from '@slack/bolt';
import { z } from 'zod';
import { UserFacingError } from '../lib/errors.ts';
import { newReferenceId } from '../lib/reference-id.ts';
import { touchWorkspace } from '../modules/workspaces/queries.ts';
import type { Services } from '../services.ts';
import { tokenize, TokenizeError } from './command-text.ts';
import { unexpectedErrorText, unknownSubcommandText } from './messages.ts';
import type { Subcommand } from './subcommand.ts';

const SlashCommandSchema = z.object({
  team_id: z.string().min(1),
  user_id: z.string().min(1),
  channel_id: z.string().min(1),
  trigger_id: z.string().min(1),
  text: z.string().max(4000).default(''),
});

/**
 * `/nurture <subcommand> …`: acks at once (Slack allows 3 s), then routes. Whatever goes wrong
 * reaches the person as an ephemeral message; unexpected failures carry a reference id that is
 * also in the log line.
 */
export function registerNurtureCommand(app: App, services: Services, subcommands: readonly Subcommand[]) {
  const byName = new Map(subcommands.map((subcommand) => [subcommand.name, subcommand]));

  app.command('/nurture', async ({ ack, command, respond, client }) => {
    await ack();
    const reply = (text: string) => respond({ response_type: 'ephemeral', text });
    const parsed = SlashCommandSchema.safeParse(command satisfies SlashCommand);
    if (!parsed.success) {
      services.logger.warn({ issues: parsed.error.issues }, 'malformed slash command payload');
      await reply('That command arrived incomplete from Slack. Please try again.');
      return;
    }
    const { team_id: teamId, user_id: userId, channel_id: channelId, trigger_id: triggerId, text } = parsed.data;
    const log = services.logger.child({ teamId, userId, command: '/nurture' });
    let name = '';
    try {
      await touchWorkspace(services.sql, teamId);
      const [first, ...args] = tokenize(text);
      name = (first?.value ?? 'help').toLowerCase();
      const subcommand = byName.get(name);
      if (!subcommand) {
        await reply(unknownSubcommandText(first?.value ?? '', closest(name, [...byName.keys()])));
        return;
      }
      await subcommand.run({ services, teamId, userId, channelId, triggerId, args, client, respond, subcommands });
      log.info({ subcommand: name }, 'command handled');
    } catch (error) {
      if (error instanceof UserFacingError) {
        await reply(error.message);
      } else if (error instanceof TokenizeError) {
        await reply(`I couldn't read that command: ${error.message} (at character ${error.position + 1}).`);
      } else {
        const referenceId = newReferenceId();
        log.error({ err: error, referenceId, subcommand: name }, 'command failed');
        await reply(unexpectedErrorText(referenceId)).catch((respondError) =>
          log.error({ err: respondError, referenceId }, 'could not tell the person about the failure'),
        );
      }
    }
  });
}

/** The known name within two edits of what was typed, for "did you mean". */
function closest(input: string, names: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(input, name);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
