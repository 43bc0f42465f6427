import { UsageError } from '../../lib/errors.ts';
import type { CommandContext, Subcommand } from '../../slack/subcommand.ts';
import { runVerb } from '../../slack/subcommand.ts';
import { requireRole } from '../roles/roles.ts';
import { loadScoringModel } from '../scoring/load-scoring-model.ts';
import { listSegments } from '../segments/queries.ts';
import { listTemplates } from '../templates/queries.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { DEFAULT_ALERT_CHANNEL_SETTINGS } from './alert-channel.ts';
import { buildAlertChannelModal } from './build-alert-channel-modal.ts';
import { describeAlertChannel } from './describe-alert-channel.ts';
import { alertChannels, alertOutcomes, deleteAlertChannel, findAlertChannel } from './queries.ts';

export const ALERTS_USAGE = 'Run `/nurture alerts` in the channel that should get hot-lead alerts, `/nurture alerts off` there to stop them, or `/nurture alerts list` anywhere.';
export const NOT_A_CHANNEL_TEXT = 'Run `/nurture alerts` in the channel that should get the alerts (a public or private channel, not a DM).';
export const inviteFirstText = (channelId: string) => `I'm not in <#${channelId}> yet: invite me with \`/invite @Nurture\`, then run \`/nurture alerts\` again.`;
export const NO_ALERT_CHANNELS_TEXT = 'No channel gets hot-lead alerts yet: run `/nurture alerts` in the channel where reps should see them.';

const PRECISION_DAYS = 30;

/** `/nurture alerts`: sets a channel up for hot-lead alerts (threshold, which leads, quiet hours), stops them, lists them. */
export const alertsSubcommand: Subcommand = {
  name: 'alerts',
  summary: 'hot-lead alerts in a channel: the score threshold, which leads (segment, owner, stage), quiet hours, cool-down and reminders',
  usage: [
    { form: '/nurture alerts', example: '/nurture alerts', explains: 'in a channel: a form to set up (or change) its alerts' },
    { form: '/nurture alerts off', example: '/nurture alerts off', explains: 'in a channel: stops its alerts' },
    { form: '/nurture alerts list', example: '/nurture alerts list', explains: 'every channel with alerts, and how its alerts went in the last 30 days' },
  ],
  async run(context) {
    if (context.args.length === 0) return setUp(context);
    return runVerb(context, { setup: setUp, off, list }, ALERTS_USAGE);
  },
};

async function setUp(context: CommandContext): Promise<void> {
  const { services, teamId, userId, channelId, client, triggerId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Setting up hot-lead alerts');
  if (!/^[CG]/.test(channelId)) throw new UsageError(NOT_A_CHANNEL_TEXT);
  const info = await client.conversations.info({ channel: channelId }).catch(() => undefined);
  if (!info?.channel?.is_member) throw new UsageError(inviteFirstText(channelId));
  const [channel, segments, templates, model] = await Promise.all([
    findAlertChannel(services.sql, teamId, channelId),
    listSegments(services.sql, teamId),
    listTemplates(services.sql, teamId),
    loadScoringModel(services.sql, teamId),
  ]);
  await client.views.open({
    trigger_id: triggerId,
    view: buildAlertChannelModal(channelId, channel?.settings ?? DEFAULT_ALERT_CHANNEL_SETTINGS, {
      segments: segments.map((segment) => ({ id: segment.id, name: segment.name })),
      templates: templates.map((template) => ({ id: template.id, name: template.name })),
      defaultThreshold: model.alertThreshold,
    }),
  });
}

async function off(context: CommandContext): Promise<void> {
  const { services, teamId, userId, channelId, respond } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Stopping hot-lead alerts');
  const removed = await services.sql.begin(async (tx) => {
    const deleted = await deleteAlertChannel(tx, teamId, channelId);
    if (deleted) await recordAudit(tx, { teamId, actorUserId: userId, action: 'alerts.channel_removed', subject: channelId });
    return deleted;
  });
  await respond({
    response_type: 'ephemeral',
    text: removed ? `Hot-lead alerts stopped in <#${channelId}>. Alerts already posted keep their buttons.` : `<#${channelId}> gets no hot-lead alerts. ${ALERTS_USAGE}`,
  });
}

async function list(context: CommandContext): Promise<void> {
  const { services, teamId, userId, respond } = context;
  await requireRole(services, teamId, userId, ['marketer', 'rep'], 'Looking at hot-lead alert channels');
  const channels = await alertChannels(services.sql, teamId);
  if (channels.length === 0) return void (await respond({ response_type: 'ephemeral', text: NO_ALERT_CHANNELS_TEXT }));
  const outcomes = new Map((await alertOutcomes(services.sql, teamId, new Date(services.clock.now().getTime() - PRECISION_DAYS * 86_400_000))).map((row) => [row.channelId, row]));
  const lines = await Promise.all(
    channels.map(async (channel) => {
      const outcome = outcomes.get(channel.channelId);
      const decided = outcome ? outcome.claimed + outcome.notAFit : 0;
      const record = !outcome
        ? 'no alerts in the last 30 days'
        : `last 30 days: ${outcome.raised} alerts, ${outcome.claimed} claimed, ${outcome.notAFit} not a fit` +
          (decided > 0 ? ` (${Math.round((outcome.claimed / decided) * 100)}% worth a rep's time)` : '') +
          (outcome.medianClaimMinutes !== null ? `, claimed in ${formatMinutes(outcome.medianClaimMinutes)} (median)` : '');
      return `• <#${channel.channelId}>: ${await describeAlertChannel(services.sql, teamId, channel.settings)}\n   _${record}_`;
    }),
  );
  await respond({ response_type: 'ephemeral', text: `*Hot-lead alert channels*\n${lines.join('\n')}` });
}

function formatMinutes(minutes: number): string {
  if (minutes < 1) return 'under a minute';
  if (minutes < 90) return `${Math.round(minutes)} min`;
  return `${(minutes / 60).toFixed(1)} h`;
}
