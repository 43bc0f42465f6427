import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceWhere, pageAudience, sampleAudience, type AudienceOptions } from '../../src/modules/segments/queries.ts';
import { RuleSchema, type Rule } from '../../src/modules/segments/rule.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * sampleAudience and pageAudience answer in several statements (the newest leads first, id ranges that
 * grow) for speed: they must return exactly what one `ORDER BY id` statement returns, whether matches
 * are dense, only among the oldest leads, fewer than asked for, or none.
 */
const TEAM = 'T0WINDOWS';
const OTHER = 'T0NEIGHBOUR';
const now = new Date('2026-11-27T12:00:00Z');
const context = { teamId: TEAM, now };
const reporting: AudienceOptions = { purpose: 'reporting' };
const DAY_ZERO = '2020-01-01T00:00:00Z';
let db: TestDatabase;

/** Leads number n created on DAY_ZERO + n days, for n from `first` to `last`. */
function createdBetween(first: number, last: number): Rule {
  const day = (n: number) => new Date(Date.parse(DAY_ZERO) + n * 86_400_000).toISOString().slice(0, 10);
  return {
    type: 'all',
    rules: [
      { type: 'field', field: 'created_at', op: 'after', value: day(first - 1) },
      { type: 'field', field: 'created_at', op: 'before', value: day(last + 1) },
    ],
  };
}

const RULES: Record<string, Rule> = {
  dense: { type: 'field', field: 'stage', op: 'equals', value: 'awareness' },
  'only among the oldest leads': { type: 'field', field: 'stage', op: 'equals', value: 'customer' },
  'three in all': { type: 'field', field: 'industry', op: 'equals', value: 'mining' },
  none: { type: 'field', field: 'industry', op: 'equals', value: 'nothing like this' },
  behaviour: { type: 'behaviour', behaviour: 'page_visited', url: '/pricing', within_days: 30 },
  'behaviour or attribute': {
    type: 'any',
    rules: [
      { type: 'behaviour', behaviour: 'email_opened', within_days: 30 },
      { type: 'field', field: 'industry', op: 'equals', value: 'mining' },
    ],
  },
};

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`INSERT INTO workspaces (team_id) VALUES (${TEAM}), (${OTHER})`;
  // 3,000 leads here, interleaved with 1,500 of another workspace (ids are shared): more than the
  // sample's first window of newest leads.
  await db.sql`
    INSERT INTO leads (team_id, email, stage, industry, created_at)
    SELECT CASE WHEN n % 3 = 0 THEN ${OTHER} ELSE ${TEAM} END, 'lead-' || n || '@example.com',
           CASE WHEN n <= 150 AND n % 3 <> 0 THEN 'customer' WHEN n % 4 = 0 THEN 'decision' ELSE 'awareness' END,
           CASE WHEN n IN (5, 2000, 4400) THEN 'Mining' ELSE 'software' END,
           ${DAY_ZERO}::timestamptz + make_interval(days => n)
    FROM generate_series(1, 4500) AS n ORDER BY n`;
  const [ids] = await db.sql<{ first: number; edge: number }[]>`
    SELECT (SELECT min(id) FROM leads) AS first,
           (SELECT id FROM leads WHERE team_id = ${TEAM} ORDER BY id DESC OFFSET 1999 LIMIT 1) AS edge`;
  // Ids follow n here; leads created on consecutive days make blocks of ids a rule can select.
  const idOf = (n: number) => ids!.first - 1 + n;
  // Starts right after the second page round when paging by 50 (8 ids per row: 400 ids first), on a lead of TEAM.
  RULES['a block starting where a page round ends'] = createdBetween(401, 480);
  // Ends at the oldest of the newest 2,000 leads, where the sample's second step starts.
  RULES['a block ending where the sample’s first step ends'] = createdBetween(ids!.edge - idOf(0) - 100, ids!.edge - idOf(0));
  await db.sql`
    INSERT INTO events (team_id, lead_id, kind, name, url_path, source, occurred_at)
    SELECT l.team_id, l.id, 'web', 'page_view', '/pricing', 'test', ${now}::timestamptz - make_interval(days => (l.id % 40)::int)
    FROM leads l WHERE l.id % 11 = 0`;
  await db.sql`
    INSERT INTO events (team_id, lead_id, kind, name, source, occurred_at)
    SELECT l.team_id, l.id, 'email', 'email_opened', 'test', ${now}::timestamptz - make_interval(days => 1)
    FROM leads l WHERE l.id % 97 = 0 AND l.id < 1000`;
  await db.sql`ANALYZE leads`;
});
afterAll(() => db.drop());

async function reference(rule: Rule, limit?: number, descending = false): Promise<number[]> {
  const rows = await db.sql<{ id: number }[]>`
    SELECT l.id FROM leads l WHERE ${audienceWhere(db.sql, rule, context, reporting)}
    ORDER BY ${descending ? db.sql`l.id DESC` : db.sql`l.id`} ${limit === undefined ? db.sql`` : db.sql`LIMIT ${limit}`}`;
  return rows.map((row) => row.id);
}

describe('audience samples and pages in several statements', () => {
  it('the sample is the newest matches', async () => {
    for (const [name, raw] of Object.entries(RULES)) {
      const rule = RuleSchema.parse(raw);
      for (const limit of [1, 5, 40]) {
        const sample = await sampleAudience(db.sql, rule, context, reporting, limit);
        expect(sample.map((row) => row.id), `${name}, ${limit}`).toEqual(await reference(rule, limit, true));
      }
    }
  });

  it('paging returns every match once, in order', async () => {
    for (const [name, raw] of Object.entries(RULES)) {
      const rule = RuleSchema.parse(raw);
      const all = await reference(rule);
      for (const limit of [7, 50, 1000]) {
        const paged: number[] = [];
        for (let afterId = 0; ; ) {
          const page = await pageAudience(db.sql, rule, context, { ...reporting, afterId, limit });
          paged.push(...page.map((row) => row.id));
          if (page.length < limit) break;
          afterId = page.at(-1)!.id;
        }
        expect(paged, `${name}, pages of ${limit}`).toEqual(all);
      }
    }
  });

  it('works inside the caller’s transaction too', async () => {
    const rule = RuleSchema.parse(RULES['only among the oldest leads']);
    const sample = await db.sql.begin((tx) => sampleAudience(tx, rule, context, reporting, 5));
    expect(sample.map((row) => row.id)).toEqual(await reference(rule, 5, true));
  });
});
