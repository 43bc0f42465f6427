import type { Queryable } from '../../db/client.ts';
import { compileRule, type Fragment, type RuleContext } from './compile-rule.ts';
import type { Rule } from './rule.ts';

export interface SegmentRow {
  id: number;
  team_id: string;
  name: string;
  description: string | null;
  rule: Rule;
  include_suppressed: boolean;
  created_by: string;
  created_at: Date;
  updated_by: string;
  updated_at: Date;
}

export interface AudienceOptions {
  /** Sending always leaves out unsubscribed, bounced and complained leads, whatever the rule says. */
  purpose: 'sending' | 'reporting';
}

export interface MemberRow {
  id: number;
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  title: string | null;
  stage: string;
  status: string;
}

/** `leads l` rows of the workspace that the rule selects. Every audience query is built on this. */
export function audienceWhere(sql: Queryable, rule: Rule, context: RuleContext, options: AudienceOptions): Fragment {
  const suppression = options.purpose === 'sending' ? sql`AND l.status = 'subscribed'` : sql``;
  return sql`l.team_id = ${context.teamId} ${suppression} AND (${compileRule(sql, rule, context)})`;
}

export async function countAudience(sql: Queryable, rule: Rule, context: RuleContext, options: AudienceOptions): Promise<number> {
  const [row] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM leads l WHERE ${audienceWhere(sql, rule, context, options)}`;
  return row?.count ?? 0;
}

/** The newest matching leads: what a person previewing a segment recognises. */
export async function sampleAudience(sql: Queryable, rule: Rule, context: RuleContext, options: AudienceOptions, limit = 5): Promise<MemberRow[]> {
  return sql<MemberRow[]>`
    SELECT l.id, l.email, l.first_name, l.last_name, l.company, l.title, l.stage, l.status FROM leads l
    WHERE ${audienceWhere(sql, rule, context, options)}
    ORDER BY l.id DESC LIMIT ${limit}`;
}

/** One page of the audience in id order, after `afterId` (keyset: each page costs the same, however deep). */
export async function pageAudience(
  sql: Queryable,
  rule: Rule,
  context: RuleContext,
  options: AudienceOptions & { afterId: number; limit: number },
): Promise<MemberRow[]> {
  return sql<MemberRow[]>`
    SELECT l.id, l.email, l.first_name, l.last_name, l.company, l.title, l.stage, l.status FROM leads l
    WHERE ${audienceWhere(sql, rule, context, options)} AND l.id > ${options.afterId}
    ORDER BY l.id LIMIT ${options.limit}`;
}

/**
 * `SELECT l.id AS lead_id FROM leads l WHERE …` as a fragment, for set-based writes such as sequence
 * enrollment: `INSERT INTO enrollments (lead_id, …) SELECT lead_id, … FROM (${audienceIds(…)}) AS audience`.
 */
export function audienceIds(sql: Queryable, rule: Rule, context: RuleContext, options: AudienceOptions): Fragment {
  return sql`SELECT l.id AS lead_id FROM leads l WHERE ${audienceWhere(sql, rule, context, options)}`;
}

export async function insertSegment(
  sql: Queryable,
  segment: { teamId: string; name: string; description?: string; rule: Rule; includeSuppressed: boolean; userId: string },
): Promise<SegmentRow | undefined> {
  const [row] = await sql<SegmentRow[]>`
    INSERT INTO segments (team_id, name, description, rule, include_suppressed, created_by, updated_by)
    VALUES (${segment.teamId}, ${segment.name}, ${segment.description ?? null}, ${sql.json(segment.rule as never)}, ${segment.includeSuppressed}, ${segment.userId}, ${segment.userId})
    ON CONFLICT (team_id, lower(name)) DO NOTHING
    RETURNING *`;
  return row;
}

export async function updateSegment(
  sql: Queryable,
  segment: { teamId: string; id: number; name: string; description?: string; rule: Rule; includeSuppressed: boolean; userId: string },
): Promise<SegmentRow | undefined> {
  const [row] = await sql<SegmentRow[]>`
    UPDATE segments SET name = ${segment.name}, description = ${segment.description ?? null}, rule = ${sql.json(segment.rule as never)},
      include_suppressed = ${segment.includeSuppressed}, updated_by = ${segment.userId}, updated_at = now()
    WHERE team_id = ${segment.teamId} AND id = ${segment.id}
    RETURNING *`;
  return row;
}

export async function findSegmentByName(sql: Queryable, teamId: string, name: string): Promise<SegmentRow | undefined> {
  const [row] = await sql<SegmentRow[]>`SELECT * FROM segments WHERE team_id = ${teamId} AND lower(name) = lower(${name})`;
  return row;
}

export async function findSegmentById(sql: Queryable, teamId: string, id: number): Promise<SegmentRow | undefined> {
  const [row] = await sql<SegmentRow[]>`SELECT * FROM segments WHERE team_id = ${teamId} AND id = ${id}`;
  return row;
}

export async function listSegments(sql: Queryable, teamId: string): Promise<Array<SegmentRow & { size_week_ago: number | null }>> {
  return sql<Array<SegmentRow & { size_week_ago: number | null }>>`
    SELECT s.*, (SELECT size FROM segment_sizes z WHERE z.segment_id = s.id AND z.measured_on <= current_date - 7
                 ORDER BY measured_on DESC LIMIT 1) AS size_week_ago
    FROM segments s WHERE s.team_id = ${teamId} ORDER BY lower(s.name)`;
}

export async function deleteSegment(sql: Queryable, teamId: string, id: number): Promise<boolean> {
  const rows = await sql`DELETE FROM segments WHERE team_id = ${teamId} AND id = ${id} RETURNING 1`;
  return rows.length > 0;
}

export async function allSegments(sql: Queryable): Promise<SegmentRow[]> {
  return sql<SegmentRow[]>`SELECT * FROM segments ORDER BY team_id, id`;
}

export async function recordSegmentSize(sql: Queryable, segment: { teamId: string; id: number }, measuredOn: string, size: number): Promise<void> {
  await sql`
    INSERT INTO segment_sizes (team_id, segment_id, measured_on, size) VALUES (${segment.teamId}, ${segment.id}, ${measuredOn}, ${size})
    ON CONFLICT (segment_id, measured_on) DO UPDATE SET size = EXCLUDED.size`;
}
