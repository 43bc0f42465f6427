import type { KnownBlock } from '@slack/types';
import type { Subcommand } from '../../slack/subcommand.ts';
import { ActionIds } from '../../slack/ids.ts';
import { requireRole } from '../roles/roles.ts';
import { parseEmailArgument } from './lead-subcommand.ts';

export const forgetSubcommand: Subcommand = {
  name: 'forget',
  summary: 'erase a person’s data and events at their request; the address can never be re-added (admins)',
  usage: [{ form: '/nurture forget <email>', example: '/nurture forget former.customer@example.com', explains: 'asks you to confirm first' }],
  async run({ services, teamId, userId, args, respond }) {
    const email = parseEmailArgument(args[0]?.value, '/nurture forget <email>');
    await requireRole(services, teamId, userId, ['admin'], 'Erasing a person');
    await respond({ response_type: 'ephemeral', text: `Erase ${email}?`, blocks: buildForgetConfirmation(email) });
  },
};

/** Erasing cannot be undone, so it takes a second, deliberate click (with Slack's own confirm dialog). */
export function buildForgetConfirmation(email: string): KnownBlock[] {
  return [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `This erases *${email}*: the lead, its attributes and all its recorded activity. It cannot be undone. Only a keyed hash of the address is kept, so it is never mailed or imported again.`,
      },
    },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ActionIds.leadForgetConfirm,
          style: 'danger',
          text: { type: 'plain_text', text: 'Erase this person' },
          value: email,
          confirm: {
            title: { type: 'plain_text', text: 'Erase for good?' },
            text: { type: 'mrkdwn', text: `Everything about ${email} will be deleted.` },
            confirm: { type: 'plain_text', text: 'Erase' },
            deny: { type: 'plain_text', text: 'Cancel' },
            style: 'danger',
          },
        },
      ],
    },
  ];
}
