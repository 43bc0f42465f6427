import type { KnownBlock } from '@slack/types';
import { NURTURE_ROLES, ROLE_DESCRIPTIONS, type NurtureRole } from './roles.ts';

export interface RoleHolder {
  user_id: string;
  role: NurtureRole;
}

/** Who holds which role. Used by `/nurture roles` and the App Home roles modal. */
export function buildRolesBlocks(holders: readonly RoleHolder[]): KnownBlock[] {
  const blocks: KnownBlock[] = NURTURE_ROLES.map((role) => {
    const people = holders.filter((holder) => holder.role === role).map((holder) => `<@${holder.user_id}>`);
    // Section text is capped at 3,000 characters; a mention is ~15, so cap the list well below.
    const shown = people.length > 150 ? [...people.slice(0, 150), `and ${people.length - 150} more`] : people;
    return {
      type: 'section',
      text: { type: 'mrkdwn', text: `*${role}* — ${ROLE_DESCRIPTIONS[role]}\n${shown.length > 0 ? shown.join(', ') : '_nobody yet_'}` },
    };
  });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: 'Slack workspace owners and admins are Nurture admins too. Admins grant roles with `/nurture roles add @person marketer`.',
      },
    ],
  });
  return blocks;
}
