import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { recordAudit, touchWorkspace } from '../workspaces/queries.ts';
import type { RuleContext } from './compile-rule.ts';
import {
  countAudience,
  deleteSegment,
  findSegmentByName,
  insertSegment,
  sampleAudience,
  updateSegment,
  type AudienceOptions,
  type MemberRow,
  type SegmentRow,
} from './queries.ts';
import { RuleSchema, type Rule } from './rule.ts';
import { segmentUsages, type SegmentUsage } from './segment-usages.ts';

export const SegmentDraftSchema = z.object({
  name: z.string().trim().min(1, 'give the segment a name').max(80, 'segment names are at most 80 characters'),
  description: z.string().trim().max(500, 'descriptions are at most 500 characters').optional().transform((value) => value || undefined),
  rule: RuleSchema,
  includeSuppressed: z.boolean().default(false),
});
export type SegmentDraft = z.input<typeof SegmentDraftSchema>;

/** Live previews must not hold a connection for long: a slow rule answers "too slow" instead. */
export const PREVIEW_TIMEOUT_MS = 2500;

export const purposeOf = (segment: Pick<SegmentRow, 'include_suppressed'>): AudienceOptions['purpose'] =>
  segment.include_suppressed ? 'reporting' : 'sending';

export function ruleContext(teamId: string, now = new Date()): RuleContext {
  return { teamId, now };
}

export async function createSegment(services: Services, teamId: string, userId: string, draft: SegmentDraft): Promise<SegmentRow> {
  const parsed = parseDraft(draft);
  return services.sql.begin(async (tx) => {
    await touchWorkspace(tx, teamId);
    const row = await insertSegment(tx, { teamId, userId, ...parsed });
    if (!row) throw new UsageError(`There is already a segment called "${parsed.name}". Pick another name, or change that one with \`/nurture segment edit\`.`);
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'segment.created', subject: String(row.id), details: { name: row.name } });
    return row;
  });
}

export async function changeSegment(services: Services, teamId: string, userId: string, id: number, draft: SegmentDraft): Promise<SegmentRow> {
  const parsed = parseDraft(draft);
  return services.sql.begin(async (tx) => {
    const clash = await findSegmentByName(tx, teamId, parsed.name);
    if (clash && clash.id !== id) throw new UsageError(`There is already a segment called "${parsed.name}".`);
    const row = await updateSegment(tx, { teamId, id, userId, ...parsed });
    if (!row) throw new UsageError('That segment no longer exists.');
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'segment.changed', subject: String(id), details: { name: row.name } });
    return row;
  });
}

/** Deletes a segment unless something active sends to it; the refusal names what. */
export async function removeSegment(services: Services, teamId: string, userId: string, name: string): Promise<SegmentRow> {
  return services.sql.begin(async (tx) => {
    const segment = await findSegmentByName(tx, teamId, name);
    if (!segment) throw new UsageError(`There is no segment called "${name}". \`/nurture segment list\` shows them.`);
    const blocking = (await segmentUsages(tx, teamId, segment.id)).filter((usage) => usage.blocksDelete);
    if (blocking.length > 0) throw new UsageError(segmentInUseText(segment.name, blocking));
    await deleteSegment(tx, teamId, segment.id);
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'segment.deleted', subject: String(segment.id), details: { name: segment.name, rule: segment.rule } });
    return segment;
  });
}

/** Why a segment cannot be deleted: what depends on it. */
export const segmentInUseText = (name: string, blocking: readonly SegmentUsage[]) =>
  `"${name}" is in use by ${blocking.map((usage) => `the ${usage.kind} "${usage.name}"`).join(', ')}, so deleting it would change who they reach. Stop or change those first.`;

export interface Preview {
  count: number;
  sample: MemberRow[];
}

/** Count and five newest members, under a statement timeout (a preview must never hog the database). */
export async function previewAudience(services: Services, teamId: string, rule: Rule, options: AudienceOptions, now = new Date()): Promise<Preview> {
  return services.sql.begin(async (tx) => {
    await tx`SELECT set_config('statement_timeout', ${String(PREVIEW_TIMEOUT_MS)}, true)`;
    const context = ruleContext(teamId, now);
    const [count, sample] = [await countAudience(tx, rule, context, options), await sampleAudience(tx, rule, context, options, 5)];
    return { count, sample };
  });
}

function parseDraft(draft: SegmentDraft) {
  const parsed = SegmentDraftSchema.safeParse(draft);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message);
  }
  return parsed.data;
}
