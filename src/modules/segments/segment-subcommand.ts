import { UsageError } from '../../lib/errors.ts';
import type { Token } from '../../slack/command-text.ts';
import { runVerb, type CommandContext, type Subcommand } from '../../slack/subcommand.ts';
import { requireRole } from '../roles/roles.ts';
import { emptyDraft, fitsInMetadata, flattenRule, type BuilderDraft } from './builder-draft.ts';
import {
  exportQueuedText,
  nameFirstText,
  nestedRuleText,
  noSuchSegmentText,
  ruleTooLongForFormText,
  segmentDeleteConfirmation,
  segmentListMessage,
  segmentSavedMessage,
  segmentShowMessage,
} from './build-segment-messages.ts';
import { buildSegmentModal, type SegmentDetails } from './build-segment-modal.ts';
import { exportSegmentCsvQueue } from './export-segment-csv-queue.ts';
import { isStatementTimeout, mapWithLimit, measureSegment } from './measure-segment.ts';
import { parseSegmentExpression, SEGMENT_GRAMMAR_HELP } from './parse-segment-text.ts';
import { findSegmentByName, listSegments, type MemberRow, type SegmentRow } from './queries.ts';
import { segmentUsages } from './segment-usages.ts';
import { changeSegment, createSegment, PREVIEW_TIMEOUT_MS, previewAudience, purposeOf, segmentInUseText } from './segments.ts';
import { refreshBuilderPreview } from './update-segment-builder.ts';
import { replyEphemeral } from '../../slack/messages.ts';

/** Sizes in `segment list` are counted live, a few at a time (they share the connection pool). */
const LIST_COUNT_CONCURRENCY = 4;

const USAGE_TEXT =
  'I can `list`, `show`, `new`, `edit`, `delete` or `export` segments, e.g. `/nurture segment show "Mfg VPs"`. `/nurture help segment` explains each, and how to write a rule.';

/**
 * `/nurture segment …`: everyone may list and look at segments; marketers and admins build, change,
 * delete and export them (an export is personal data).
 */
export const segmentSubcommand: Subcommand = {
  name: 'segment',
  summary: 'who gets what: list and look at segments; marketers and admins build, change, delete and export them',
  usage: [
    { form: '/nurture segment list', example: '/nurture segment list', explains: 'every segment with its size now and the change since last week' },
    { form: '/nurture segment show <name>', example: '/nurture segment show "Mfg VPs"', explains: 'the rule in words, its size, recent leads, where it is used' },
    { form: '/nurture segment new', example: '/nurture segment new', explains: 'a form that builds the rule one condition at a time, with a live count' },
    {
      form: '/nurture segment new "<name>" <rule>',
      example: '/nurture segment new "Mfg VPs" industry:manufacturing title~VP visited:/pricing within:30d',
      explains: 'the same, typed (see the rule syntax below with `/nurture help segment`)',
    },
    { form: '/nurture segment edit <name> [<rule>]', example: '/nurture segment edit "Mfg VPs"', explains: 'opens the form; with a rule, replaces the rule' },
    { form: '/nurture segment delete <name>', example: '/nurture segment delete "Mfg VPs"', explains: 'asks you to confirm; refused while something active sends to it' },
    { form: '/nurture segment export <name>', example: '/nurture segment export "Mfg VPs"', explains: 'a CSV of its leads, sent to you as a direct message' },
  ],
  details: SEGMENT_GRAMMAR_HELP,
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
        delete: deleteCommand,
        remove: deleteCommand,
        export: exportCommand,
      },
      USAGE_TEXT,
    ),
};


async function listCommand(context: CommandContext) {
  const { services, teamId } = context;
  const segments = await listSegments(services.sql, teamId);
  const sizes = await mapWithLimit(segments, LIST_COUNT_CONCURRENCY, (segment) => measureSegment(services, segment, PREVIEW_TIMEOUT_MS));
  await replyEphemeral(context, segmentListMessage(segments.map((segment, index) => ({ segment, size: sizes[index], sizeWeekAgo: segment.size_week_ago }))));
}

async function showCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId } = context;
  const segment = await segmentNamed(context, tokens, 'show');
  let count: number | undefined;
  let sample: MemberRow[] = [];
  try {
    ({ count, sample } = await previewAudience(services, teamId, segment.rule, { purpose: purposeOf(segment) }));
  } catch (error) {
    if (!isStatementTimeout(error)) throw error;
  }
  const usages = await segmentUsages(services.sql, teamId, segment.id);
  await replyEphemeral(context, segmentShowMessage({ segment, count, sample, usages }));
}

async function newCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Building segments');
  const [nameToken, ...expression] = tokens;
  // `new industry:manufacturing title~VP` would make a segment called "industry:manufacturing".
  if (nameToken && looksLikeCondition(nameToken.value)) throw new UsageError(nameFirstText);
  if (expression.length === 0) {
    // No rule typed: the form, with the name filled in when one was given.
    return openSegmentBuilder(context, emptyDraft(), { name: nameToken?.value, includeSuppressed: false });
  }
  const rule = parseSegmentExpression(expression);
  const segment = await createSegment(services, teamId, userId, { name: nameToken!.value, rule });
  await replySaved(context, segment, true);
}

async function editCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Changing segments');
  const { segment, rest } = await segmentAndRest(context, tokens);
  if (rest.length > 0) {
    const rule = parseSegmentExpression(rest);
    const changed = await changeSegment(services, teamId, userId, segment.id, {
      name: segment.name,
      description: segment.description ?? undefined,
      rule,
      includeSuppressed: segment.include_suppressed,
    });
    return replySaved(context, changed, false);
  }
  const conditions = flattenRule(segment.rule);
  if (!conditions) return replyEphemeral(context, { text: nestedRuleText(segment.name) });
  const draft = emptyDraft(segment.id, conditions);
  if (!fitsInMetadata(draft)) return replyEphemeral(context, { text: ruleTooLongForFormText(segment.name) });
  await openSegmentBuilder(context, draft, { name: segment.name, description: segment.description ?? undefined, includeSuppressed: segment.include_suppressed });
}

async function deleteCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Deleting segments');
  const segment = await segmentNamed(context, tokens, 'delete');
  // Refuse at once rather than after the confirmation; the click checks again (removeSegment).
  const blocking = (await segmentUsages(services.sql, teamId, segment.id)).filter((usage) => usage.blocksDelete);
  if (blocking.length > 0) throw new UsageError(segmentInUseText(segment.name, blocking));
  await replyEphemeral(context, segmentDeleteConfirmation(segment));
}

async function exportCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Exporting a segment');
  const segment = await segmentNamed(context, tokens, 'export');
  await services.enqueue(exportSegmentCsvQueue, { teamId, userId, segmentId: segment.id, segmentName: segment.name });
  await replyEphemeral(context, { text: exportQueuedText(segment.name) });
}

/** A rule condition typed where the name belongs (`industry:manufacturing`), rather than a name. */
const looksLikeCondition = (token: string) => !/\s/.test(token) && /^-?[A-Za-z_][A-Za-z0-9_.]*(?::|~|\^|>=|<=|>|<)\S/.test(token);

/** The segment the rest of the command names; names may be quoted ("Mfg VPs") or typed as words. */
async function segmentNamed(context: CommandContext, tokens: readonly Token[], verb: string): Promise<SegmentRow> {
  const name = tokens.map((token) => token.value).join(' ').trim();
  if (name === '') throw new UsageError(`Say which segment: \`/nurture segment ${verb} <name>\`. \`/nurture segment list\` shows them.`);
  const segment = await findSegmentByName(context.services.sql, context.teamId, name);
  if (!segment) throw new UsageError(noSuchSegmentText(name));
  return segment;
}

/** `edit <name> [<rule>]`: the longest run of leading words that names a segment, and the rule after it. */
async function segmentAndRest(context: CommandContext, tokens: readonly Token[]): Promise<{ segment: SegmentRow; rest: readonly Token[] }> {
  if (tokens.length === 0) throw new UsageError('Say which segment: `/nurture segment edit <name>` (or `/nurture segment edit <name> <rule>` to replace its rule).');
  for (let words = tokens.length; words >= 1; words -= 1) {
    const name = tokens.slice(0, words).map((token) => token.value).join(' ');
    const segment = await findSegmentByName(context.services.sql, context.teamId, name);
    if (segment) return { segment, rest: tokens.slice(words) };
  }
  throw new UsageError(noSuchSegmentText(tokens[0]!.value));
}

async function replySaved(context: CommandContext, segment: SegmentRow, created: boolean) {
  let count: number | undefined;
  let sample: MemberRow[] = [];
  try {
    ({ count, sample } = await previewAudience(context.services, context.teamId, segment.rule, { purpose: purposeOf(segment) }));
  } catch (error) {
    if (!isStatementTimeout(error)) throw error;
  }
  await replyEphemeral(context, segmentSavedMessage(segment, created, count, sample));
}

/** Opens the builder right away (the trigger_id expires ~3 s after the command), then counts its preview. */
async function openSegmentBuilder(context: CommandContext, draft: BuilderDraft, details: SegmentDetails) {
  const { services, client, teamId, triggerId } = context;
  const opened = await client.views.open({ trigger_id: triggerId, view: buildSegmentModal(draft, { details, preview: { kind: 'counting' } }) });
  if (opened.view?.id && opened.view.hash) {
    await refreshBuilderPreview(services, client, { teamId, viewId: opened.view.id, hash: opened.view.hash, draft, details });
  }
}
