import { UsageError } from '../../lib/errors.ts';
import type { Subcommand } from '../../slack/subcommand.ts';
import { buildHelpBlocks, helpFallbackText } from './build-help.ts';

export const helpSubcommand: Subcommand = {
  name: 'help',
  summary: 'what Nurture can do, and how to ask for it',
  usage: [
    { form: '/nurture help', example: '/nurture help', explains: 'every command with an example' },
    { form: '/nurture help <command>', example: '/nurture help roles', explains: 'one command in detail' },
  ],
  async run({ args, respond, subcommands }) {
    const topic = args[0]?.value.toLowerCase();
    if (topic && !subcommands.some((subcommand) => subcommand.name === topic)) {
      throw new UsageError(
        `There is no \`${topic}\` command. Commands: ${subcommands.map((subcommand) => `\`${subcommand.name}\``).join(', ')}.`,
      );
    }
    await respond({ response_type: 'ephemeral', text: helpFallbackText(subcommands), blocks: buildHelpBlocks(subcommands, topic) });
  },
};
