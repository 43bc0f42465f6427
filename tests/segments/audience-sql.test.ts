import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceIds, countAudience, pageAudience, sampleAudience, type AudienceOptions } from '../../src/modules/segments/queries.ts';
import { RuleSchema, type Rule } from '../../src/modules/segments/rule.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { daysAgo, insertEvent, insertLead } from '../support/factories.ts';

const TEAM = 'T0SEG';
const OTHER = 'T0ELSEWHERE';
const now = new Date('2026-11-27T12:00:00Z');
let db: TestDatabase;
const ids: Record<string, number> = {};

const reporting: AudienceOptions = { purpose: 'reporting' };
const matches = async (rule: Rule, options: AudienceOptions = reporting, teamId = TEAM) => {
  const parsed = RuleSchema.parse(rule);
  const rows = await db.sql<{ email: string }[]>`
    SELECT l.email FROM (${audienceIds(db.sql, parsed, { teamId, now }, options)}) a JOIN leads l ON l.id = a.lead_id ORDER BY l.email`;
  const count = await countAudience(db.sql, parsed, { teamId, now }, options);
  expect(count).toBe(rows.length);
  return rows.map((row) => row.email.split('@')[0]);
};

beforeAll(async () => {
  db = await createTestDatabase();
  const lead = async (key: string, fields: Record<string, unknown>, teamId = TEAM) => {
    ids[`${teamId}:${key}`] = (await insertLead(db.sql, teamId, { email: `${key}@example.com`, ...fields })).id;
  };
  await lead('ana', { industry: 'Manufacturing', title: 'VP Operations', stage: 'consideration', company: 'Acme Corp', attributes: { employees: 500, plan: 'enterprise', renewal: '2027-03-01' }, created_at: daysAgo(now, 10) });
  await lead('ben', { industry: 'manufacturing', title: 'Engineer', stage: 'awareness', company: 'Beta 100% Ltd', attributes: { employees: '80', plan: 'pro' }, created_at: daysAgo(now, 40) });
  await lead('cho', { industry: 'software', title: 'vp sales', stage: 'decision', attributes: { employees: 'many', renewal: '2027-02-31' }, owner_user_id: 'U0REP', created_at: daysAgo(now, 5) });
  await lead('dee', { industry: 'finance', stage: 'customer', status: 'unsubscribed', created_at: daysAgo(now, 100) });
  await lead('eve', { industry: null, title: 'Director', status: 'bounced', created_at: daysAgo(now, 1) });
  await lead('ana', { industry: 'Manufacturing', title: 'VP Operations', stage: 'consideration' }, OTHER);

  const event = (key: string, name: string, days: number, extra: Record<string, unknown> = {}) =>
    insertEvent(db.sql, TEAM, ids[`${TEAM}:${key}`]!, { name, occurred_at: daysAgo(now, days), ...extra });
  await event('ana', 'page_view', 3, { url_path: '/pricing' });
  await event('ana', 'email_opened', 70, { properties: { message: 'welcome-1' } });
  await event('ben', 'page_view', 30, { url_path: '/pricing' }); // exactly on the 30-day edge
  await event('ben', 'email_clicked', 59.99, { properties: { message: 'case-study', url: 'https://example.com/case' } });
  await event('cho', 'page_view', 30.001, { url_path: '/pricing' }); // just outside 30 days
  await event('cho', 'page_view', 2, { url_path: '/products/robots' });
  await event('cho', 'resource_download', 4, { properties: { asset: 'whitepaper-x' } });
  await event('cho', 'resource_download', 6, { properties: { asset: 'whitepaper-x' } });
  await event('cho', 'resource_download', 8, { properties: { asset: 'checklist' } });
  await event('dee', 'email_clicked', 1, { verdict: 'machine' }); // a link scanner, not a person
  await event('dee', 'email_opened', 2);
  await insertEvent(db.sql, OTHER, ids[`${OTHER}:ana`]!, { name: 'page_view', url_path: '/pricing', occurred_at: daysAgo(now, 1) });
});
afterAll(() => db.drop());

describe('segment rules against the database', () => {
  it('text operators ignore case and treat missing values sensibly', async () => {
    expect(await matches({ type: 'field', field: 'industry', op: 'equals', value: 'MANUFACTURING' })).toEqual(['ana', 'ben']);
    expect(await matches({ type: 'field', field: 'industry', op: 'not_equals', value: 'manufacturing' })).toEqual(['cho', 'dee', 'eve']);
    expect(await matches({ type: 'field', field: 'industry', op: 'one_of', value: ['Software', 'finance'] })).toEqual(['cho', 'dee']);
    expect(await matches({ type: 'field', field: 'title', op: 'contains', value: 'vp' })).toEqual(['ana', 'cho']);
    expect(await matches({ type: 'field', field: 'company', op: 'starts_with', value: 'acme' })).toEqual(['ana']);
    expect(await matches({ type: 'field', field: 'industry', op: 'is_set' })).toEqual(['ana', 'ben', 'cho', 'dee']);
    expect(await matches({ type: 'field', field: 'industry', op: 'not_set' })).toEqual(['eve']);
    expect(await matches({ type: 'field', field: 'owner', op: 'equals', value: 'U0REP' })).toEqual(['cho']);
    expect(await matches({ type: 'field', field: 'stage', op: 'one_of', value: ['decision', 'customer'] })).toEqual(['cho', 'dee']);
  });

  it('LIKE wildcards typed by a person match literally', async () => {
    expect(await matches({ type: 'field', field: 'company', op: 'contains', value: '100%' })).toEqual(['ben']);
    expect(await matches({ type: 'field', field: 'company', op: 'contains', value: '%' })).toEqual(['ben']);
    expect(await matches({ type: 'field', field: 'title', op: 'contains', value: '_' })).toEqual([]);
  });

  it('dates: before, after and within the last N days', async () => {
    expect(await matches({ type: 'field', field: 'created_at', op: 'within_days', value: 10 })).toEqual(['ana', 'cho', 'eve']);
    expect(await matches({ type: 'field', field: 'created_at', op: 'not_within_days', value: 10 })).toEqual(['ben', 'dee']);
    expect(await matches({ type: 'field', field: 'created_at', op: 'before', value: '2026-10-20' })).toEqual(['ben', 'dee']);
    expect(await matches({ type: 'field', field: 'created_at', op: 'before', value: '2026-10-18' })).toEqual(['dee']);
    expect(await matches({ type: 'field', field: 'created_at', op: 'after', value: '2026-11-21' })).toEqual(['cho', 'eve']);
  });

  it('custom attributes compare numbers (JSON or numeric text), text and dates', async () => {
    expect(await matches({ type: 'attribute', name: 'employees', op: 'gte', value: 100 })).toEqual(['ana']);
    expect(await matches({ type: 'attribute', name: 'employees', op: 'lt', value: 100 })).toEqual(['ben']);
    expect(await matches({ type: 'attribute', name: 'plan', op: 'one_of', value: ['Enterprise', 'pro'] })).toEqual(['ana', 'ben']);
    expect(await matches({ type: 'attribute', name: 'plan', op: 'not_set' })).toEqual(['cho', 'dee', 'eve']);
    expect(await matches({ type: 'attribute', name: 'renewal', op: 'before', value: '2027-06-01' })).toEqual(['ana']);
  });

  it('behaviour windows include the edge and exclude what lies beyond it', async () => {
    expect(await matches({ type: 'behaviour', behaviour: 'page_visited', url: '/pricing', within_days: 30 })).toEqual(['ana', 'ben']);
    expect(await matches({ type: 'behaviour', behaviour: 'page_visited', url: '/pricing' })).toEqual(['ana', 'ben', 'cho']);
    expect(await matches({ type: 'behaviour', behaviour: 'page_visited', url: '/products/*', within_days: 7 })).toEqual(['cho']);
    expect(await matches({ type: 'behaviour', behaviour: 'email_clicked', within_days: 60 })).toEqual(['ben']);
    expect(await matches({ type: 'behaviour', behaviour: 'email_clicked', within_days: 60, never: true })).toEqual(['ana', 'cho', 'dee', 'eve']);
    expect(await matches({ type: 'behaviour', behaviour: 'email_opened', message: 'welcome-1' })).toEqual(['ana']);
    expect(await matches({ type: 'behaviour', behaviour: 'email_clicked', link: 'https://example.com/case' })).toEqual(['ben']);
  });

  it('counts events with property filters, at least and at most', async () => {
    const download = { type: 'behaviour', behaviour: 'event', name: 'resource_download' } as const;
    expect(await matches({ ...download, where: { asset: 'whitepaper-x' }, at_least: 2 })).toEqual(['cho']);
    expect(await matches({ ...download, where: { asset: 'whitepaper-x' }, at_least: 3 })).toEqual([]);
    expect(await matches({ ...download, at_least: 3, within_days: 8 })).toEqual(['cho']);
    expect(await matches({ ...download, at_least: 3, within_days: 7 })).toEqual([]);
    expect(await matches({ ...download, at_most: 0 })).toEqual(['ana', 'ben', 'dee', 'eve']);
  });

  it('counts only human activity unless asked to include machines', async () => {
    expect(await matches({ type: 'behaviour', behaviour: 'email_clicked', within_days: 7 })).toEqual([]);
    expect(await matches({ type: 'behaviour', behaviour: 'email_clicked', within_days: 7, include_machine: true })).toEqual(['dee']);
  });

  it('combines all, any and not groups', async () => {
    const rule: Rule = {
      type: 'all',
      rules: [
        { type: 'field', field: 'industry', op: 'equals', value: 'manufacturing' },
        { type: 'any', rules: [{ type: 'field', field: 'title', op: 'contains', value: 'VP' }, { type: 'behaviour', behaviour: 'email_clicked' }] },
        { type: 'not', rule: { type: 'field', field: 'stage', op: 'equals', value: 'awareness' } },
      ],
    };
    expect(await matches(rule)).toEqual(['ana']);
    expect(await matches({ type: 'not', rule: { type: 'field', field: 'industry', op: 'equals', value: 'finance' } })).toEqual(['ana', 'ben', 'cho', 'eve']);
    expect(await matches({ type: 'all', rules: [] })).toEqual(['ana', 'ben', 'cho', 'dee', 'eve']);
  });

  it('sending leaves out unsubscribed, bounced and complained leads whatever the rule says', async () => {
    const everyone: Rule = { type: 'all', rules: [] };
    expect(await matches(everyone, { purpose: 'sending' })).toEqual(['ana', 'ben', 'cho']);
    expect(await matches({ type: 'field', field: 'status', op: 'equals', value: 'unsubscribed' }, { purpose: 'sending' })).toEqual([]);
  });

  it('never sees another workspace’s leads or events', async () => {
    expect(await matches({ type: 'behaviour', behaviour: 'page_visited', url: '/pricing', within_days: 2 })).toEqual([]);
    expect(await matches({ type: 'behaviour', behaviour: 'page_visited', url: '/pricing', within_days: 2 }, reporting, OTHER)).toEqual(['ana']);
    expect(await matches({ type: 'all', rules: [] }, reporting, OTHER)).toEqual(['ana']);
  });

  it('values and attribute names that look like SQL are only data', async () => {
    const injections = ["' OR 1=1 --", "x'); DROP TABLE leads; --", '"; DELETE FROM events; --', "manufacturing' OR 'a'='a"];
    for (const value of injections) {
      expect(await matches({ type: 'field', field: 'industry', op: 'equals', value })).toEqual([]);
      expect(await matches({ type: 'field', field: 'title', op: 'contains', value })).toEqual([]);
      expect(await matches({ type: 'attribute', name: value, op: 'is_set' })).toEqual([]);
      expect(await matches({ type: 'attribute', name: value, op: 'gt', value: 0 })).toEqual([]);
      expect(await matches({ type: 'behaviour', behaviour: 'page_visited', url: `/${value.replace(/\s/g, '')}` })).toEqual([]);
      expect(await matches({ type: 'behaviour', behaviour: 'email_opened', message: value })).toEqual([]);
      expect(await matches({ type: 'behaviour', behaviour: 'event', name: 'resource_download', where: { [value]: value } })).toEqual([]);
    }
    const [counts] = await db.sql`SELECT (SELECT count(*)::int FROM leads) AS leads, (SELECT count(*)::int FROM events) AS events`;
    expect(counts).toEqual({ leads: 6, events: 12 });
  });

  it('pages the audience by keyset and samples the newest; the id fragment feeds INSERT … SELECT', async () => {
    const everyone: Rule = { type: 'all', rules: [] };
    const context = { teamId: TEAM, now };
    const first = await pageAudience(db.sql, everyone, context, { purpose: 'reporting', afterId: 0, limit: 2 });
    const second = await pageAudience(db.sql, everyone, context, { purpose: 'reporting', afterId: first.at(-1)!.id, limit: 2 });
    const third = await pageAudience(db.sql, everyone, context, { purpose: 'reporting', afterId: second.at(-1)!.id, limit: 2 });
    expect([...first, ...second, ...third].map((row) => row.email.split('@')[0])).toEqual(['ana', 'ben', 'cho', 'dee', 'eve']);
    expect((await sampleAudience(db.sql, everyone, context, reporting, 2)).map((row) => row.email.split('@')[0])).toEqual(['eve', 'dee']);

    await db.sql.begin(async (tx) => {
      await tx`CREATE TEMP TABLE enrolled (lead_id bigint PRIMARY KEY) ON COMMIT DROP`;
      const inserted = await tx`INSERT INTO enrolled (lead_id) SELECT lead_id FROM (${audienceIds(tx, RuleSchema.parse({ type: 'field', field: 'stage', op: 'equals', value: 'consideration' }), context, { purpose: 'sending' })}) AS audience RETURNING lead_id`;
      expect(inserted.map((row) => row.lead_id)).toEqual([ids[`${TEAM}:ana`]]);
    });
  });
});
