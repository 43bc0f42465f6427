import { UsageError } from '../../lib/errors.ts';
import type { Subcommand } from '../../slack/subcommand.ts';
import { recentEventsOfLead } from '../events/queries.ts';
import { leadOneToOnes } from '../one-to-one/queries.ts';
import { requireRole } from '../roles/roles.ts';
import { leadCardScore } from '../scoring/lead-card-score.ts';
import { leadRuns } from '../sequences/runs.ts';
import { canonicalTimeZone } from '../settings/zoned-time.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { buildLeadCard } from './build-lead-card.ts';
import { EmailSchema } from './lead-input.ts';
import { findLeadByEmail } from './queries.ts';

export const RECENT_ACTIVITY_SHOWN = 10;
const ONE_TO_ONES_SHOWN = 5;

export const leadSubcommand: Subcommand = {
  name: 'lead',
  summary: 'the lead card: who they are, where they are in the journey, what they did lately',
  usage: [{ form: '/nurture lead <email>', example: '/nurture lead yui@example.co.jp' }],
  async run({ services, teamId, userId, args, respond }) {
    const email = parseEmailArgument(args[0]?.value, '/nurture lead <email>');
    await requireRole(services, teamId, userId, ['marketer', 'rep'], 'Looking at leads');
    const lead = await findLeadByEmail(services.sql, teamId, email);
    if (!lead) throw new UsageError(`There is no lead with the address ${email}.`);
    const [recent, runs, settings, score, oneToOnes] = await Promise.all([
      recentEventsOfLead(services.sql, teamId, lead.id, RECENT_ACTIVITY_SHOWN),
      leadRuns(services.sql, teamId, lead.id),
      getWorkspaceSettings(services.sql, teamId),
      leadCardScore(services, teamId, lead.id),
      leadOneToOnes(services.sql, teamId, lead.id, ONE_TO_ONES_SHOWN),
    ]);
    // Steps go out on the lead's own clock (the workspace's when theirs is unknown), so "next Tue 09:00" is theirs.
    const timeZone = (lead.time_zone ? canonicalTimeZone(lead.time_zone) : undefined) ?? settings.timeZone;
    await respond({ response_type: 'ephemeral', text: `Lead ${lead.email}`, blocks: buildLeadCard(lead, recent, { runs, timeZone }, services.clock.now(), score, oneToOnes) });
  },
};

/** Slack turns a typed address into `<mailto:a@b.c|a@b.c>`; accept both forms. */
export function parseEmailArgument(token: string | undefined, usage: string): string {
  if (!token) throw new UsageError(`Say which lead: \`${usage}\``);
  const unwrapped = /^<mailto:([^|>]+)(?:\|[^>]*)?>$/.exec(token)?.[1] ?? token;
  const parsed = EmailSchema.safeParse(unwrapped);
  if (!parsed.success) throw new UsageError(`"${unwrapped}" is not an email address. Try \`${usage}\`.`);
  return parsed.data;
}
