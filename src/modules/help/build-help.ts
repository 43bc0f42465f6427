import type { KnownBlock } from '@slack/types';
import type { Subcommand } from '../../slack/subcommand.ts';

export const HELP_INTRO =
  'Nurture keeps B2B leads warm from Slack: segments, step-email sequences and newsletters go out through Resend, and when a lead comes back to the website a rep gets a hot-lead alert.';

/** Help for every subcommand, or one in detail. Slack allows 50 blocks per message: one section per subcommand keeps us far below. */
export function buildHelpBlocks(subcommands: readonly Subcommand[], topic?: string): KnownBlock[] {
  const chosen = topic ? subcommands.filter((subcommand) => subcommand.name === topic) : subcommands;
  const blocks: KnownBlock[] = [];
  if (!topic) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: HELP_INTRO } });
    blocks.push({ type: 'divider' });
  }
  for (const subcommand of chosen) {
    const lines = subcommand.usage.map(
      (usage) => `• \`${usage.form}\`${usage.explains ? ` — ${usage.explains}` : ''}\n   e.g. \`${usage.example}\``,
    );
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*${subcommand.name}* — ${subcommand.summary}\n${lines.join('\n')}` },
    });
  }
  const details = topic ? chosen[0]?.details : undefined;
  if (details) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: details } });
  if (!topic) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'For one command in detail: `/nurture help <command>`, e.g. `/nurture help roles`.' }],
    });
  }
  return blocks;
}

export function helpFallbackText(subcommands: readonly Subcommand[]): string {
  return `Nurture commands: ${subcommands.map((subcommand) => subcommand.name).join(', ')}`;
}
