import { UsageError } from '../../lib/errors.ts';
import type { Token } from '../../slack/command-text.ts';
import { replyEphemeral } from '../../slack/messages.ts';
import { runVerb, type CommandContext, type Subcommand } from '../../slack/subcommand.ts';
import { parseEmailArgument } from '../leads/lead-subcommand.ts';
import { NO_TEMPLATES_TEXT } from '../newsletters/newsletter-subcommand.ts';
import { findLeadByEmail } from '../leads/queries.ts';
import { requireRole } from '../roles/roles.ts';
import { measureSegment } from '../segments/measure-segment.ts';
import { findSegmentByName, listSegments } from '../segments/queries.ts';
import { PREVIEW_TIMEOUT_MS } from '../segments/segments.ts';
import { listTemplates } from '../templates/queries.ts';
import {
  activatedText,
  activationQuestion,
  activationRefusedText,
  archiveConfirmation,
  enrolledText,
  notInSequenceText,
  pausedText,
  refusedText,
  removedText,
  resumedText,
  sequenceListMessage,
  sequenceName,
  sequenceShowMessage,
} from './build-sequence-messages.ts';
import { buildSequenceBuilderModal, buildSequenceDetailsModal } from './build-sequence-modal.ts';
import { checkSequenceActivation } from './check-sequence-activation.ts';
import { CHANGING_SEQUENCES, loadBuilderFacts } from './click-sequence-builder.ts';
import { pickSequence, pickSequenceAndRest } from './parse-sequence-text.ts';
import { activeRunCounts, listSequenceSummaries, stepStats, type SequenceSummaryRow } from './queries.ts';
import { enrollLeads, removeLead } from './runs.ts';
import { ARCHIVED_TEXT, SEQUENCE_GONE_TEXT } from './sequence-definitions.ts';
import { detailsFormOf } from './sequence-forms.ts';
import { activateSequence, pauseSequence, resumeSequence } from './sequence-lifecycle.ts';

const USAGE_TEXT =
  'I can `list`, `show`, `new`, `edit`, `activate`, `pause`, `resume` or `archive` sequences, and `enroll` or `remove` leads, e.g. `/nurture sequence show "Whitepaper follow-up"`. `/nurture help sequence` explains each.';

const NAMES_HELP = [
  '*Naming a sequence in a command* — quote names with spaces (`"Whitepaper follow-up"`), or type the start of the name when only one sequence starts that way (`/nurture sequence show white`).',
  '*How a lead moves through one* — each step waits its delay (after enrollment or after the previous step), then waits for the send window on the lead’s own clock; the frequency cap may hold a step back, never drop it. A lead leaves when they unsubscribe, bounce or complain, reach the goal event, become a customer, are removed, or the sequence is archived. Pausing holds everyone where they are.',
].join('\n');

export const alreadyActiveText = (name: string) => `${sequenceName(name)} is already active.`;
export const pausedNotDraftText = (name: string) => `${sequenceName(name)} is paused: \`/nurture sequence resume\` starts it again.`;
export const archivedAlreadyText = (name: string) => `${sequenceName(name)} is archived already.`;
export const noSuchWhoText = (typed: string) =>
  `"${typed}" is neither an email address nor the name of a segment. Enroll one lead by address, or a whole segment by name (\`/nurture segment list\` shows them).`;

/**
 * `/nurture sequence …`: everyone may list sequences and look at one; marketers and admins build,
 * change and run them, and enroll or remove leads.
 */
export const sequenceSubcommand: Subcommand = {
  name: 'sequence',
  summary: 'step emails each lead goes through at their own pace: list and look at sequences; marketers and admins build and run them',
  usage: [
    { form: '/nurture sequence list', example: '/nurture sequence list', explains: 'every sequence: status, people in it, and per step sent, open and click rates' },
    { form: '/nurture sequence show <name>', example: '/nurture sequence show "Whitepaper follow-up"', explains: 'its timeline, trigger, send window and stats' },
    { form: '/nurture sequence new [<name>]', example: '/nurture sequence new', explains: 'a form for its details, then a builder for its steps (saved as a draft)' },
    { form: '/nurture sequence edit <name>', example: '/nurture sequence edit "Whitepaper follow-up"', explains: 'the builder again; an active sequence may be changed too' },
    { form: '/nurture sequence activate <name>', example: '/nurture sequence activate "Whitepaper follow-up"', explains: 'checks every step first; says what to fix, or what to look at before it goes live' },
    { form: '/nurture sequence pause|resume <name>', example: '/nurture sequence pause "Whitepaper follow-up"', explains: 'holds everyone where they are, or lets them go on' },
    { form: '/nurture sequence archive <name>', example: '/nurture sequence archive "Whitepaper follow-up"', explains: 'ends everyone’s run (asks first)' },
    { form: '/nurture sequence enroll <name> <email|segment>', example: '/nurture sequence enroll "Whitepaper follow-up" yui@example.co.jp', explains: 'one lead, or everyone in a segment now' },
    { form: '/nurture sequence remove <name> <email>', example: '/nurture sequence remove "Whitepaper follow-up" yui@example.co.jp', explains: 'the lead leaves it: no more of its steps' },
  ],
  details: NAMES_HELP,
  run: (context) =>
    runVerb(
      context,
      {
        list: listCommand,
        show: showCommand,
        new: newCommand,
        create: newCommand,
        edit: editCommand,
        change: editCommand,
        activate: activateCommand,
        start: activateCommand,
        pause: (context, rest) => pauseOrResumeCommand(context, rest, 'pause'),
        resume: (context, rest) => pauseOrResumeCommand(context, rest, 'resume'),
        archive: archiveCommand,
        enroll: enrollCommand,
        add: enrollCommand,
        remove: removeCommand,
      },
      USAGE_TEXT,
    ),
};

async function listCommand(context: CommandContext) {
  const { services, teamId } = context;
  const sequences = await listSequenceSummaries(services.sql, teamId);
  const ids = sequences.map((sequence) => sequence.id);
  const [counts, stats] = await Promise.all([activeRunCounts(services.sql, teamId, ids), stepStats(services.sql, teamId, ids)]);
  await replyEphemeral(
    context,
    sequenceListMessage(
      sequences.map((sequence) => ({ ...sequence, activeRuns: counts.get(sequence.id) ?? 0, steps: stats.filter((row) => row.sequence_id === sequence.id) })),
    ),
  );
}

async function showCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId } = context;
  const named = await sequenceNamed(context, tokens, 'show');
  const facts = await loadBuilderFacts(services, teamId, named.id);
  if (!facts) throw new UsageError(SEQUENCE_GONE_TEXT);
  const [counts, stats] = await Promise.all([activeRunCounts(services.sql, teamId, [named.id]), stepStats(services.sql, teamId, [named.id])]);
  await replyEphemeral(context, sequenceShowMessage({ ...facts, activeRuns: counts.get(named.id) ?? 0, stats }));
}

async function newCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId, client, triggerId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Building sequences');
  const [templates, segments] = await Promise.all([listTemplates(services.sql, teamId), listSegments(services.sql, teamId)]);
  if (templates.length === 0) throw new UsageError(NO_TEMPLATES_TEXT);
  const name = tokens.map((token) => token.value).join(' ').trim();
  await client.views.open({ trigger_id: triggerId, view: buildSequenceDetailsModal({ ...detailsFormOf(), ...(name ? { name } : {}) }, { segments }, {}) });
}

async function editCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId, client, triggerId } = context;
  await requireRole(services, teamId, userId, ['marketer'], CHANGING_SEQUENCES);
  const named = await sequenceNamed(context, tokens, 'edit');
  if (named.status === 'archived') throw new UsageError(ARCHIVED_TEXT);
  const facts = await loadBuilderFacts(services, teamId, named.id);
  if (!facts) throw new UsageError(SEQUENCE_GONE_TEXT);
  await client.views.open({ trigger_id: triggerId, view: buildSequenceBuilderModal(facts) });
}

/**
 * Checks first. Refusals end it there; warnings, and for a segment trigger the question of today's
 * members, are asked with buttons; with nothing to ask it activates at once.
 */
async function activateCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Activating sequences');
  const named = await sequenceNamed(context, tokens, 'activate');
  if (named.status === 'active') throw new UsageError(alreadyActiveText(named.name));
  if (named.status === 'paused') throw new UsageError(pausedNotDraftText(named.name));
  if (named.status === 'archived') throw new UsageError(ARCHIVED_TEXT);
  const facts = await loadBuilderFacts(services, teamId, named.id);
  if (!facts) throw new UsageError(SEQUENCE_GONE_TEXT);
  const { sequence } = facts;
  const check = await checkSequenceActivation(services, teamId, sequence);
  if (check.refusals.length > 0) return replyEphemeral(context, { text: activationRefusedText(sequence.name, check.refusals) });
  if (check.warnings.length > 0 || check.segment) {
    const segment = check.segment ? { name: check.segment.name, members: await measureSegment(services, check.segment, PREVIEW_TIMEOUT_MS, services.clock.now()) } : undefined;
    return replyEphemeral(context, activationQuestion(sequence, { warnings: check.warnings, ...(segment ? { segment } : {}) }));
  }
  const result = await activateSequence(services, { teamId, sequenceId: sequence.id, userId, enrollCurrentMembers: false });
  await replyEphemeral(context, { text: result.ok ? activatedText(sequence.name, result.enrolled, sequence.trigger) : refusedText(result.reason) });
}

async function pauseOrResumeCommand(context: CommandContext, tokens: readonly Token[], verb: 'pause' | 'resume') {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], verb === 'pause' ? 'Pausing sequences' : 'Resuming sequences');
  const named = await sequenceNamed(context, tokens, verb);
  const request = { teamId, sequenceId: named.id, userId };
  const result = verb === 'pause' ? await pauseSequence(services, request) : await resumeSequence(services, request);
  if (!result.ok) return replyEphemeral(context, { text: refusedText(result.reason) });
  const people = (await activeRunCounts(services.sql, teamId, [named.id])).get(named.id) ?? 0;
  await replyEphemeral(context, { text: verb === 'pause' ? pausedText(named.name, people) : resumedText(named.name, people) });
}

async function archiveCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Archiving sequences');
  const named = await sequenceNamed(context, tokens, 'archive');
  if (named.status === 'archived') throw new UsageError(archivedAlreadyText(named.name));
  const people = (await activeRunCounts(services.sql, teamId, [named.id])).get(named.id) ?? 0;
  await replyEphemeral(context, archiveConfirmation(named, people));
}

/** One lead by address, or everyone in a segment now (by its name). */
async function enrollCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Enrolling leads in sequences');
  const usage = '/nurture sequence enroll <sequence> <email|segment>';
  const { sequence, rest } = pickSequenceAndRest(tokens, await listSequenceSummaries(services.sql, teamId), usage);
  const typed = rest.map((token) => token.value).join(' ').trim();
  let who: { leadIds: number[] } | { segmentId: number };
  if (rest.length === 1 && typed.includes('@')) {
    const email = parseEmailArgument(typed, usage);
    const lead = await findLeadByEmail(services.sql, teamId, email);
    if (!lead) throw new UsageError(`There is no lead with the address ${email}.`);
    who = { leadIds: [lead.id] };
  } else {
    const segment = await findSegmentByName(services.sql, teamId, typed);
    if (!segment) throw new UsageError(noSuchWhoText(typed));
    who = { segmentId: segment.id };
  }
  const result = await enrollLeads(services, { teamId, sequenceId: sequence.id, who, enrolledBy: userId });
  await replyEphemeral(context, { text: result.ok ? enrolledText(sequence.name, result) : refusedText(result.reason) });
}

async function removeCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Removing leads from sequences');
  const usage = '/nurture sequence remove <sequence> <email>';
  const { sequence, rest } = pickSequenceAndRest(tokens, await listSequenceSummaries(services.sql, teamId), usage);
  if (rest.length !== 1) throw new UsageError(`Say which lead by their address: \`${usage}\`.`);
  const email = parseEmailArgument(rest[0]!.value, usage);
  const lead = await findLeadByEmail(services.sql, teamId, email);
  if (!lead) throw new UsageError(`There is no lead with the address ${email}.`);
  const removed = await removeLead(services, { teamId, sequenceId: sequence.id, leadId: lead.id, userId });
  await replyEphemeral(context, { text: removed ? removedText(sequence.name, email) : notInSequenceText(sequence.name, email) });
}

async function sequenceNamed(context: CommandContext, tokens: readonly Token[], verb: string): Promise<SequenceSummaryRow> {
  return pickSequence(tokens, await listSequenceSummaries(context.services.sql, context.teamId), `/nurture sequence ${verb} <name>`);
}
