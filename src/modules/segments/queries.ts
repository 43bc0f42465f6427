import type { Queryable } from '../../db/client.ts';
import { compileRule, escapeLike, type Fragment, type RuleContext } from './compile-rule.ts';
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
  return withAudienceSettings(sql, { wholeRule: true }, async (q) => {
    const [row] = await q<{ count: number }[]>`SELECT count(*)::int AS count FROM leads l WHERE ${audienceWhere(q, rule, context, options)}`;
    return row?.count ?? 0;
  });
}

/**
 * How many of the workspace's newest leads the sample looks at first. A broad rule finds its five there
 * at once; a narrow one (a few hundred of 400,000 leads) does not, and the rest is found by evaluating
 * the whole rule once, as the count does.
 */
const SAMPLE_WINDOW = 2000;

/**
 * The newest matching leads: what a person previewing a segment recognises.
 *
 * Asked in one statement (`ORDER BY l.id DESC LIMIT 5`), Postgres walks the leads newest first and
 * tests the rule on each, betting that matches are dense. For a narrow rule that bet reads a large
 * part of the table (80 ms instead of 25 ms for the bench's mixed rule), because it underestimates how
 * many leads an event condition keeps. So: first the newest SAMPLE_WINDOW leads of the workspace, where
 * walking is cheap; only if fewer than `limit` match there, the older ones through a materialised set of
 * matching ids (the whole rule evaluated once, like the count). The result is the same: every match in
 * the first part is newer than every match in the second.
 */
export async function sampleAudience(sql: Queryable, rule: Rule, context: RuleContext, options: AudienceOptions, limit = 5): Promise<MemberRow[]> {
  return withAudienceSettings(sql, { wholeRule: true }, async (q) => {
    const [edge] = await q<{ id: number }[]>`
      SELECT id FROM leads WHERE team_id = ${context.teamId} ORDER BY id DESC OFFSET ${SAMPLE_WINDOW - 1} LIMIT 1`;
    const newest = await q<MemberRow[]>`
      SELECT l.id, l.email, l.first_name, l.last_name, l.company, l.title, l.stage, l.status FROM leads l
      WHERE ${audienceWhere(q, rule, context, options)} AND l.id >= ${edge?.id ?? 0}
      ORDER BY l.id DESC LIMIT ${limit}`;
    if (newest.length === limit || !edge) return newest;
    const older = await q<MemberRow[]>`
      WITH matching AS MATERIALIZED (
        SELECT l.id FROM leads l WHERE ${audienceWhere(q, rule, context, options)} AND l.id < ${edge.id}
      )
      SELECT l.id, l.email, l.first_name, l.last_name, l.company, l.title, l.stage, l.status FROM leads l
      WHERE l.id IN (SELECT id FROM matching ORDER BY id DESC LIMIT ${limit - newest.length})
      ORDER BY l.id DESC`;
    return [...newest, ...older];
  });
}

/** Ids a page looks at first (see pageAudience), per requested row. */
const PAGE_SPAN_PER_ROW = 8;

/**
 * One page of the audience in id order, after `afterId` (keyset: each page costs the same, however deep).
 *
 * Asked in one statement, Postgres plans the rule for every lead after `afterId` and, for an OR of
 * behaviours, hashes all their events to serve a 1,000-row page (130 ms a page on the bench's broad
 * behaviour segment). So the page is looked for in id ranges: the first covers 8 ids per requested row,
 * where leads are tested one by one (15 ms); the next is sized by the matches found so far, twice what
 * would fill the page, and is the rest of the table when none were found (or that size reaches past the
 * last lead): a rule planned with hashes over a behaviour's events pays that cost per statement, whatever
 * the range, so it should take two statements, not many. The rows are the same as one statement's: each
 * round returns every match of its range up to what is still missing.
 */
export async function pageAudience(
  sql: Queryable,
  rule: Rule,
  context: RuleContext,
  options: AudienceOptions & { afterId: number; limit: number },
): Promise<MemberRow[]> {
  return withAudienceSettings(sql, { wholeRule: false }, async (q) => {
    const [last] = await q<{ id: number | null }[]>`SELECT max(id) AS id FROM leads WHERE team_id = ${context.teamId}`;
    const rows: MemberRow[] = [];
    let after = options.afterId;
    let span = options.limit * PAGE_SPAN_PER_ROW;
    for (;;) {
      const upTo = last?.id != null && after + span < last.id ? after + span : undefined;
      const found = await q<MemberRow[]>`
        SELECT l.id, l.email, l.first_name, l.last_name, l.company, l.title, l.stage, l.status FROM leads l
        WHERE ${audienceWhere(q, rule, context, options)} AND l.id > ${after} ${upTo === undefined ? q`` : q`AND l.id <= ${upTo}`}
        ORDER BY l.id LIMIT ${options.limit - rows.length}`;
      rows.push(...found);
      if (rows.length === options.limit || upTo === undefined) return rows;
      const missing = options.limit - rows.length;
      span = found.length === 0 ? Infinity : Math.ceil((2 * span * missing) / found.length);
      after = upTo;
    }
  });
}

/**
 * Memory for a statement that evaluates a whole rule (the count, the sample's second step): enough to
 * hash the leads of a broad behaviour (500k opens in 90 days) in memory. With the default 4 MB,
 * Postgres tests such a condition lead by lead instead: an OR of two broad behaviours took 2.0 s
 * instead of 0.7 s. It is a per-hash limit, and only for these statements.
 */
const WHOLE_RULE_WORK_MEM = '32MB';

/**
 * Audience queries are planned for their actual values every time, and whole-rule ones get
 * WHOLE_RULE_WORK_MEM. postgres.js prepares each statement, and after five runs of one rule shape
 * Postgres may switch to a generic plan, made without the workspace, patterns, windows and keyset
 * position (it guesses every condition keeps 0.5 % of the rows); on the bench data set that turned a
 * 23 ms page into 113 ms. Planning costs ~4 ms. The settings are local to a transaction: the caller's,
 * or one opened here.
 */
async function withAudienceSettings<T>(sql: Queryable, options: { wholeRule: boolean }, run: (sql: Queryable) => Promise<T>): Promise<T> {
  const inTransaction = async (tx: Queryable) => {
    await tx`SELECT set_config('plan_cache_mode', 'force_custom_plan', true)`;
    if (options.wholeRule) await tx`SELECT set_config('work_mem', ${WHOLE_RULE_WORK_MEM}, true)`;
    return run(tx);
  };
  if ('savepoint' in sql) return inTransaction(sql);
  // Our own transaction: one snapshot for the statements of a sample or a page, as one statement would see.
  return (await sql.begin('isolation level repeatable read read only', (tx) => inTransaction(tx))) as T;
}

/**
 * `SELECT l.id AS lead_id FROM leads l WHERE …` as a fragment, for set-based writes such as sequence
 * enrollment: `INSERT INTO enrollments (lead_id, …) SELECT lead_id, … FROM (${audienceIds(…)}) AS audience`.
 */
export function audienceIds(sql: Queryable, rule: Rule, context: RuleContext, options: AudienceOptions): Fragment {
  return sql`SELECT l.id AS lead_id FROM leads l WHERE ${audienceWhere(sql, rule, context, options)}`;
}

/**
 * The audience's lead ids in id order, read once (e.g. to write a send's ledger in slices). One array
 * value rather than a row per lead: a million ids cost ~8 MB of heap instead of a million row objects.
 */
export async function audienceLeadIds(sql: Queryable, rule: Rule, context: RuleContext, options: AudienceOptions): Promise<number[]> {
  const [row] = await sql<{ ids: number[] }[]>`
    SELECT coalesce(array_agg(lead_id ORDER BY lead_id), '{}') AS ids FROM (${audienceIds(sql, rule, context, options)}) AS audience`;
  return row!.ids;
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

// ---- type-ahead values for the segment builder -------------------------------------------------------
// Each answers a Slack options request, which must come back within 3 s: callers run them under a
// statement timeout. Every query is scoped to the workspace.

/** Lead columns the builder offers values of; the map is fixed, so nothing typed becomes an identifier. */
const SUGGESTED_COLUMNS = { industry: 'industry', title: 'title', company: 'company', source: 'source', time_zone: 'time_zone', locale: 'locale' } as const;

/** Slack option values are at most 150 characters; longer values cannot be offered. */
const MAX_OPTION_VALUE = 150;

const containsPattern = (typed: string) => `%${escapeLike(typed)}%`;
const prefixPattern = (typed: string) => `${escapeLike(typed)}%`;

/**
 * Distinct values of a lead field containing what was typed, those starting with it first, then the
 * most common. Case variants count as one value (rules compare text case-insensitively).
 */
export async function suggestLeadValues(sql: Queryable, teamId: string, field: keyof typeof SUGGESTED_COLUMNS, typed: string, limit: number): Promise<string[]> {
  const value = sql`l.${sql(SUGGESTED_COLUMNS[field])}`;
  const rows = await sql<{ value: string }[]>`
    SELECT min(${value}) AS value FROM leads l
    WHERE l.team_id = ${teamId} AND ${value} ILIKE ${containsPattern(typed)} AND length(${value}) <= ${MAX_OPTION_VALUE}
    GROUP BY lower(${value})
    ORDER BY bool_or(${value} ILIKE ${prefixPattern(typed)}) DESC, count(*) DESC, lower(min(${value}))
    LIMIT ${limit}`;
  return rows.map((row) => row.value);
}

/** Names of custom attributes the workspace's leads have. */
export async function suggestAttributeNames(sql: Queryable, teamId: string, typed: string, limit: number): Promise<string[]> {
  const rows = await sql<{ value: string }[]>`
    SELECT k AS value FROM leads l CROSS JOIN LATERAL jsonb_object_keys(l.attributes) AS k
    WHERE l.team_id = ${teamId} AND k ILIKE ${containsPattern(typed)} AND length(k) <= 64
    GROUP BY k
    ORDER BY bool_or(k ILIKE ${prefixPattern(typed)}) DESC, count(*) DESC, k
    LIMIT ${limit}`;
  return rows.map((row) => row.value);
}

/** Values one custom attribute takes (numbers as written), like suggestLeadValues. */
export async function suggestAttributeValues(sql: Queryable, teamId: string, name: string, typed: string, limit: number): Promise<string[]> {
  const rows = await sql<{ value: string }[]>`
    SELECT min(v) AS value FROM (
      SELECT l.attributes ->> ${name} AS v FROM leads l
      WHERE l.team_id = ${teamId} AND jsonb_typeof(l.attributes -> ${name}) IN ('string', 'number', 'boolean')
    ) AS attribute_values
    WHERE v ILIKE ${containsPattern(typed)} AND length(v) <= ${MAX_OPTION_VALUE}
    GROUP BY lower(v)
    ORDER BY bool_or(v ILIKE ${prefixPattern(typed)}) DESC, count(*) DESC, lower(min(v))
    LIMIT ${limit}`;
  return rows.map((row) => row.value);
}

/**
 * Distinct event names starting with what was typed (case-sensitive, as rules match them). The events
 * table is the big one, so this walks events_by_team_name_time from one name to the next ("loose index
 * scan", one index probe per name) instead of reading every event; the walk stops after `scan` names.
 * Nurture's own email_* events are left out: they have behaviours of their own.
 */
export async function suggestEventNames(sql: Queryable, teamId: string, typed: string, limit: number, scan = 300): Promise<string[]> {
  const rows = await sql<{ value: string }[]>`
    WITH RECURSIVE names (name, depth) AS (
      (SELECT e.name, 1 FROM events e WHERE e.team_id = ${teamId} AND e.name >= ${typed} ORDER BY e.name LIMIT 1)
      UNION ALL
      SELECT (SELECT e.name FROM events e WHERE e.team_id = ${teamId} AND e.name > n.name ORDER BY e.name LIMIT 1), n.depth + 1
      FROM names n
      WHERE n.name IS NOT NULL AND n.depth < ${scan} AND (starts_with(n.name, ${typed}) OR n.depth < 20)
    )
    SELECT name AS value FROM names
    WHERE name IS NOT NULL AND starts_with(name, ${typed}) AND name NOT LIKE 'email\\_%' AND length(name) <= ${MAX_OPTION_VALUE}
    LIMIT ${limit}`;
  return rows.map((row) => row.value);
}

/** Distinct visited paths starting with what was typed: the same walk over the partial index events_web_by_path. */
export async function suggestVisitedPaths(sql: Queryable, teamId: string, typed: string, limit: number, scan = 300): Promise<string[]> {
  const rows = await sql<{ value: string }[]>`
    WITH RECURSIVE paths (path, depth) AS (
      (SELECT e.url_path, 1 FROM events e WHERE e.team_id = ${teamId} AND e.kind = 'web' AND e.url_path >= ${typed} ORDER BY e.url_path LIMIT 1)
      UNION ALL
      SELECT (SELECT e.url_path FROM events e WHERE e.team_id = ${teamId} AND e.kind = 'web' AND e.url_path > p.path ORDER BY e.url_path LIMIT 1), p.depth + 1
      FROM paths p
      WHERE p.path IS NOT NULL AND p.depth < ${scan} AND (starts_with(p.path, ${typed}) OR p.depth < 20)
    )
    SELECT path AS value FROM paths
    WHERE path IS NOT NULL AND starts_with(path, ${typed}) AND length(path) <= ${MAX_OPTION_VALUE}
    LIMIT ${limit}`;
  return rows.map((row) => row.value);
}
