import type postgres from 'postgres';
import type { Queryable } from '../../db/client.ts';
import type { AttributeCondition, BehaviourCondition, Condition, DateFieldCondition, EnumFieldCondition, Rule } from './rule.ts';

/** A piece of SQL with its bind parameters, composable into a larger query (postgres.js fragment). */
export type Fragment = postgres.PendingQuery<postgres.Row[]>;

export interface RuleContext {
  teamId: string;
  /** "Within the last N days" is measured from here (injectable for tests and sequences). */
  now: Date;
}

/**
 * Compiles a rule to a boolean SQL expression over `leads l`. Values, attribute names, patterns and
 * dates are bind parameters; column names come only from the fixed map below. Nothing the person typed
 * becomes SQL text.
 */
export function compileRule(sql: Queryable, rule: Rule, context: RuleContext): Fragment {
  switch (rule.type) {
    case 'all':
      return rule.rules.length === 0 ? sql`TRUE` : join(sql, rule.rules.map((inner) => compileRule(sql, inner, context)), 'AND');
    case 'any':
      return join(sql, rule.rules.map((inner) => compileRule(sql, inner, context)), 'OR');
    case 'not':
      // NOT over a possibly-NULL comparison would drop the lead; treat unknown as "does not match".
      // Over a rule that is never NULL, a plain NOT means the same and lets Postgres plan NOT EXISTS as
      // an anti-join instead of a subquery per lead.
      return isNeverNull(rule.rule) ? sql`NOT (${compileRule(sql, rule.rule, context)})` : sql`NOT COALESCE((${compileRule(sql, rule.rule, context)}), FALSE)`;
    default:
      return compileCondition(sql, rule, context);
  }
}

/** Behaviour conditions compile to EXISTS and count comparisons, which are TRUE or FALSE, never NULL. */
function isNeverNull(rule: Rule): boolean {
  if (rule.type === 'all' || rule.type === 'any') return rule.rules.every(isNeverNull);
  if (rule.type === 'not') return isNeverNull(rule.rule);
  return rule.type === 'behaviour';
}

function join(sql: Queryable, parts: Fragment[], operator: 'AND' | 'OR'): Fragment {
  return parts.reduce((joined, part, index) => (index === 0 ? sql`(${part})` : operator === 'AND' ? sql`${joined} AND (${part})` : sql`${joined} OR (${part})`));
}

/** The only column names conditions can reach. */
const COLUMNS: Record<string, string> = {
  email: 'email',
  first_name: 'first_name',
  last_name: 'last_name',
  company: 'company',
  title: 'title',
  industry: 'industry',
  source: 'source',
  time_zone: 'time_zone',
  locale: 'locale',
  owner: 'owner_user_id',
  stage: 'stage',
  status: 'status',
  created_at: 'created_at',
  updated_at: 'updated_at',
  consent_at: 'consent_at',
};

function column(sql: Queryable, field: string): Fragment {
  const name = COLUMNS[field];
  if (!name) throw new Error(`unknown lead field ${field}`);
  return sql`l.${sql(name)}`;
}

function compileCondition(sql: Queryable, condition: Condition, context: RuleContext): Fragment {
  if (condition.type === 'behaviour') return compileBehaviour(sql, condition, context);
  if (condition.type === 'attribute') return compileAttribute(sql, condition, context);
  if (condition.field === 'created_at' || condition.field === 'updated_at' || condition.field === 'consent_at') {
    return compileDate(sql, column(sql, condition.field), condition, context);
  }
  if (condition.field === 'stage' || condition.field === 'status') return compileEnum(sql, column(sql, condition.field), condition);
  return compileText(sql, column(sql, condition.field), condition);
}

/**
 * stage and status only ever hold the lower-case values their CHECK constraints allow, so comparing the
 * column itself selects exactly the leads `lower(column)` would. Unlike `lower(stage)`, the column has
 * an index (leads_by_team_stage_industry) and statistics: `lower(stage) = …` was estimated at 0.5 % of
 * the leads whatever the stage, which led the planner into nested loops over thousands of leads.
 */
function compileEnum(sql: Queryable, value: Fragment, condition: EnumFieldCondition): Fragment {
  switch (condition.op) {
    case 'equals':
      return sql`${value} = lower(${condition.value})`;
    case 'not_equals':
      return sql`${value} IS DISTINCT FROM lower(${condition.value})`;
    case 'one_of':
      return sql`${value} = ANY(${condition.value.map((item) => item.toLowerCase())}::text[])`;
  }
}

type TextLike = { op: string; value?: unknown };

/** Text comparisons ignore case: "Manufacturing" and "manufacturing" are the same industry to a marketer. */
function compileText(sql: Queryable, value: Fragment, condition: TextLike): Fragment {
  switch (condition.op) {
    case 'equals':
      return sql`lower(${value}) = lower(${String(condition.value)})`;
    case 'not_equals':
      return sql`lower(${value}) IS DISTINCT FROM lower(${String(condition.value)})`;
    case 'one_of':
      return sql`lower(${value}) = ANY(${(condition.value as string[]).map((item) => item.toLowerCase())}::text[])`;
    case 'contains':
      return sql`${value} ILIKE ${`%${escapeLike(String(condition.value))}%`}`;
    case 'starts_with':
      return sql`${value} ILIKE ${`${escapeLike(String(condition.value))}%`}`;
    case 'is_set':
      return sql`COALESCE(${value}::text, '') <> ''`;
    case 'not_set':
      return sql`COALESCE(${value}::text, '') = ''`;
    default:
      throw new Error(`operator ${condition.op} does not apply to text`);
  }
}

function compileDate(sql: Queryable, value: Fragment, condition: DateFieldCondition | { op: string; value?: unknown }, context: RuleContext): Fragment {
  switch (condition.op) {
    // Calendar dates are UTC days, whatever the database server's time zone.
    case 'before':
      return sql`${value} < (${String(condition.value)}::date)::timestamp AT TIME ZONE 'UTC'`;
    case 'after':
      return sql`${value} >= (${String(condition.value)}::date + 1)::timestamp AT TIME ZONE 'UTC'`;
    case 'within_days':
      return sql`${value} >= ${context.now}::timestamptz - make_interval(days => ${Number(condition.value)}) AND ${value} <= ${context.now}::timestamptz`;
    case 'not_within_days':
      return sql`COALESCE(${value} < ${context.now}::timestamptz - make_interval(days => ${Number(condition.value)}), TRUE)`;
    case 'is_set':
      return sql`${value} IS NOT NULL`;
    case 'not_set':
      return sql`${value} IS NULL`;
    default:
      throw new Error(`operator ${condition.op} does not apply to dates`);
  }
}

/**
 * Custom attributes: the name is a bind parameter (`attributes ->> $1`), so any name is safe. Values
 * may be JSON numbers or, from CSV imports, numeric text: comparisons accept both.
 */
function compileAttribute(sql: Queryable, condition: AttributeCondition, context: RuleContext): Fragment {
  const text = sql`(l.attributes ->> ${condition.name})`;
  switch (condition.op) {
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const number = sql`(CASE WHEN ${text} ~ '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$' THEN ${text}::numeric END)`;
      const operand = condition.value;
      if (condition.op === 'gt') return sql`${number} > ${operand}`;
      if (condition.op === 'gte') return sql`${number} >= ${operand}`;
      if (condition.op === 'lt') return sql`${number} < ${operand}`;
      return sql`${number} <= ${operand}`;
    }
    case 'before':
    case 'after':
    case 'within_days':
    case 'not_within_days': {
      const date = sql`(nurture_try_date(${text})::timestamp AT TIME ZONE 'UTC')`;
      return compileDate(sql, date, condition, context);
    }
    default:
      return compileText(sql, text, condition);
  }
}

const BEHAVIOUR_EVENT: Record<Exclude<BehaviourCondition['behaviour'], 'event' | 'page_visited'>, string> = {
  email_opened: 'email_opened',
  email_clicked: 'email_clicked',
};

/**
 * Behaviour: a subquery on the lead's events. Per lead, Postgres probes events_by_lead_time, which
 * carries every column these filters read (index-only); across the workspace it reads the matching
 * events from events_by_team_name_time or events_web_by_path and hashes their leads (see
 * migrations/0007_segment_indexes.sql). Counts stop early with LIMIT: "at least 3" reads at most 3 rows.
 */
function compileBehaviour(sql: Queryable, condition: BehaviourCondition, context: RuleContext): Fragment {
  const filters: Fragment[] = [sql`e.lead_id = l.id`, sql`e.team_id = ${context.teamId}`];
  if (condition.behaviour === 'event') filters.push(sql`e.name = ${condition.name!}`);
  else if (condition.behaviour === 'page_visited') filters.push(sql`e.kind = 'web'`, sql`e.url_path LIKE ${urlPattern(condition.url!)}`);
  else filters.push(sql`e.name = ${BEHAVIOUR_EVENT[condition.behaviour]}`);
  if (condition.message) filters.push(sql`e.properties ->> 'message' = ${condition.message}`);
  if (condition.sequence) filters.push(sql`e.properties ->> 'sequence' = ${condition.sequence}`);
  if (condition.link) filters.push(sql`e.properties ->> 'url' = ${condition.link}`);
  if (condition.where && Object.keys(condition.where).length > 0) filters.push(sql`e.properties @> ${sql.json(condition.where)}`);
  if (condition.within_days !== undefined) {
    filters.push(sql`e.occurred_at >= ${context.now}::timestamptz - make_interval(days => ${condition.within_days})`, sql`e.occurred_at <= ${context.now}::timestamptz`);
  }
  if (!condition.include_machine) filters.push(sql`e.verdict IS DISTINCT FROM 'machine'`);
  const where = join(sql, filters, 'AND');

  if (condition.at_least === undefined && condition.at_most === undefined) {
    return condition.never ? sql`NOT EXISTS (SELECT 1 FROM events e WHERE ${where})` : sql`EXISTS (SELECT 1 FROM events e WHERE ${where})`;
  }
  const parts: Fragment[] = [];
  if (condition.at_least !== undefined) {
    // "At least N" implies "at least one": the EXISTS gives the planner a semi-join over the matching
    // events (by hash when many leads qualify) and leaves the per-lead count to the leads that pass it.
    // For N = 1 it is the whole condition.
    parts.push(sql`EXISTS (SELECT 1 FROM events e WHERE ${where})`);
    if (condition.at_least > 1) {
      parts.push(sql`(SELECT count(*) FROM (SELECT 1 FROM events e WHERE ${where} LIMIT ${condition.at_least}) AS counted) >= ${condition.at_least}`);
    }
  }
  if (condition.at_most !== undefined) {
    parts.push(sql`(SELECT count(*) FROM (SELECT 1 FROM events e WHERE ${where} LIMIT ${condition.at_most + 1}) AS counted) <= ${condition.at_most}`);
  }
  return join(sql, parts, 'AND');
}

/** `/products/*` → LIKE '/products/%', with the person's own % and _ matched literally. */
export function urlPattern(pattern: string): string {
  const trimmed = pattern.length > 1 ? pattern.replace(/\/+$/, '') : pattern;
  return escapeLike(trimmed).replace(/\*/g, '%');
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
