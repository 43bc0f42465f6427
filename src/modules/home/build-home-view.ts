import type { HomeView, KnownBlock, ModalView } from '@slack/types';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { ROLE_DESCRIPTIONS, type PersonRoles } from '../roles/roles.ts';
import { HELP_INTRO } from '../help/build-help.ts';

/** The App Home tab: what Nurture is, the person's roles, and quick actions. */
export function buildHomeView(person: PersonRoles): HomeView {
  const roleLines =
    person.roles.length > 0
      ? person.roles.map((role) => `• *${role}* — ${ROLE_DESCRIPTIONS[role]}`).join('\n') +
        (person.slackAdmin ? '\n_You are an admin because you are a Slack workspace owner or admin._' : '')
      : 'You have no Nurture role yet, so you can look but not change anything. Ask an admin: `/nurture roles add @you marketer`.';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Nurture' } },
    { type: 'section', text: { type: 'mrkdwn', text: HELP_INTRO } },
    { type: 'divider' },
    { type: 'section', text: { type: 'mrkdwn', text: `*Your roles*\n${roleLines}` } },
    {
      type: 'actions',
      elements: [
        { type: 'button', action_id: ActionIds.homeShowHelp, text: { type: 'plain_text', text: 'All commands' }, style: 'primary' },
        { type: 'button', action_id: ActionIds.homeShowRoles, text: { type: 'plain_text', text: 'Who has which role' } },
      ],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'Everything is also a command: type `/nurture help` in any channel.' }] },
  ];
  return { type: 'home', blocks };
}

/** A read-only modal around blocks that are also used in messages (help, roles). */
export function buildInfoModal(callbackId: (typeof CallbackIds)[keyof typeof CallbackIds], title: string, blocks: KnownBlock[]): ModalView {
  return { type: 'modal', callback_id: callbackId, title: { type: 'plain_text', text: title }, close: { type: 'plain_text', text: 'Close' }, blocks };
}
