import { UsageError } from '../../lib/errors.ts';
import type { Token } from '../../slack/command-text.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';
import { runVerb, type CommandContext, type Subcommand } from '../../slack/subcommand.ts';
import { requireRole } from '../roles/roles.ts';
import { listSegments } from '../segments/queries.ts';
import { formatInZone, wallTimeAt } from '../settings/zoned-time.ts';
import { listTemplates } from '../templates/queries.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { buildNewsletterCard } from './build-newsletter-card.ts';
import { buildNewsletterModal } from './build-newsletter-modal.ts';
import { loadCardFacts } from './newsletter-card.ts';
import { findNewsletter, listRecentNewsletters, type NewsletterListRow } from './queries.ts';

const USAGE_TEXT = 'I can make a `new` newsletter, `list` the recent ones, or `show` one, e.g. `/nurture newsletter show 12`.';
export const NO_TEMPLATES_TEXT = 'There is no template to send yet. Write one first with `/nurture template new`.';
export const NO_SEGMENTS_TEXT = 'There is no segment to send to yet. Build one first with `/nurture segment new`.';
export const NO_NEWSLETTERS_TEXT = 'No newsletters yet. Plan one with `/nurture newsletter new`.';
const LIST_LIMIT = 15;

/**
 * `/nurture newsletter …`: marketers and admins plan newsletters (a send plan card in the channel that a
 * second person approves); everyone may list them and look at one.
 */
export const newsletterSubcommand: Subcommand = {
  name: 'newsletter',
  summary: 'one email to a segment: plan it, a second person approves it on its card, then it sends with progress on the card',
  usage: [
    { form: '/nurture newsletter new', example: '/nurture newsletter new', explains: 'a form: template, segment, now or a day and time; posts the send plan in this channel' },
    { form: '/nurture newsletter list', example: '/nurture newsletter list', explains: 'the recent newsletters with their status and counts' },
    { form: '/nurture newsletter show <number>', example: '/nurture newsletter show 12', explains: 'what its card says: plan, status, progress or summary' },
  ],
  run: (context) =>
    runVerb(
      context,
      {
        new: newCommand,
        create: newCommand,
        list: listCommand,
        show: showCommand,
      },
      USAGE_TEXT,
    ),
};

async function newCommand(context: CommandContext) {
  const { services, teamId, userId, channelId, triggerId, client } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Planning a newsletter');
  const [templates, segments, settings] = await Promise.all([listTemplates(services.sql, teamId), listSegments(services.sql, teamId), getWorkspaceSettings(services.sql, teamId)]);
  if (templates.length === 0) throw new UsageError(NO_TEMPLATES_TEXT);
  if (segments.length === 0) throw new UsageError(NO_SEGMENTS_TEXT);
  await client.views.open({
    trigger_id: triggerId,
    view: buildNewsletterModal({ templates, segments, timeZone: settings.timeZone, today: wallTimeAt(services.clock.now(), settings.timeZone).date, channelId }),
  });
}

async function listCommand(context: CommandContext) {
  const { services, teamId } = context;
  const [rows, settings] = await Promise.all([listRecentNewsletters(services.sql, teamId, LIST_LIMIT), getWorkspaceSettings(services.sql, teamId)]);
  const text = rows.length === 0 ? NO_NEWSLETTERS_TEXT : `*Recent newsletters*\n${rows.map((row) => listLine(row, settings.timeZone)).join('\n')}`;
  await context.respond({ response_type: 'ephemeral', text });
}

export function listLine(row: NewsletterListRow, timeZone: string): string {
  const counts = row.recipient_count === null
    ? `${row.planned_count.toLocaleString('en-US')} planned`
    : `${row.sent.toLocaleString('en-US')} / ${row.recipient_count.toLocaleString('en-US')} sent${row.failed > 0 ? `, ${row.failed.toLocaleString('en-US')} failed` : ''}`;
  return `• *#${row.id}* ${escapeMrkdwn(row.template_name)} → ${escapeMrkdwn(row.segment_name)} · *${row.status.replace('_', ' ')}* · ${counts} · ${formatInZone(row.send_at, timeZone)}`;
}

async function showCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId } = context;
  const given = tokens.map((token) => token.value).join(' ').trim().replace(/^#/, '');
  if (!/^\d{1,15}$/.test(given)) throw new UsageError('Say which newsletter by its number: `/nurture newsletter show 12` (`/nurture newsletter list` shows them).');
  const newsletter = await findNewsletter(services.sql, teamId, Number(given));
  if (!newsletter) throw new UsageError(`There is no newsletter #${given}. \`/nurture newsletter list\` shows the recent ones.`);
  const card = buildNewsletterCard(await loadCardFacts(services, newsletter), { withButtons: false });
  await context.respond({ response_type: 'ephemeral', ...card });
}
