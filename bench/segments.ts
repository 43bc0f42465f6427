import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import type { Sql } from '../src/db/client.ts';
import { createLogger } from '../src/lib/logger.ts';
import type { RuleContext } from '../src/modules/segments/compile-rule.ts';
import { audienceWhere, countAudience, pageAudience, sampleAudience, type AudienceOptions } from '../src/modules/segments/queries.ts';
import { RuleSchema, type Rule } from '../src/modules/segments/rule.ts';
import { previewAudience } from '../src/modules/segments/segments.ts';
import type { Services } from '../src/services.ts';
import { summarize } from './support/bench-app.ts';
import { openSegmentDataset, TEAMS } from './support/generate-dataset.ts';

/**
 * Segment audiences on ~1,000,000 leads / ~5,000,000 events (bench/support/generate-dataset.ts, cached
 * between runs; BENCH_FRESH=1 regenerates). Targets on a 2-core machine:
 *   - a preview (count + the five newest members, what `previewAudience` runs) of a typical mixed rule
 *     (3 attribute + 2 behaviour conditions): p50 under 100 ms, p95 under 300 ms, warm;
 *   - paging the whole audience of a ~200,000-lead segment by keyset in pages of 1,000: under 3 s.
 * Writes EXPLAIN (ANALYZE, BUFFERS) of every measured query to bench/segments-plans.txt.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WARMUP = 3;
const PAGE_SIZE = 1000;
const PLANS_FILE = path.join(import.meta.dirname, 'segments-plans.txt');

interface BenchRule {
  label: string;
  teamId: string;
  rule: Rule;
  purpose: AudienceOptions['purpose'];
  /** Page through the whole audience too. */
  page?: boolean;
}

/** The issue's typical mixed rule: 3 attribute and 2 behaviour conditions. */
const MIXED_RULE: Rule = {
  type: 'all',
  rules: [
    { type: 'field', field: 'industry', op: 'equals', value: 'manufacturing' },
    { type: 'field', field: 'title', op: 'contains', value: 'VP' },
    { type: 'field', field: 'stage', op: 'equals', value: 'consideration' },
    { type: 'behaviour', behaviour: 'page_visited', url: '/pricing', within_days: 30 },
    { type: 'behaviour', behaviour: 'email_clicked', within_days: 60, never: true },
  ],
};

const RULES: BenchRule[] = [
  {
    label: 'mixed: manufacturing, title contains VP, consideration, visited /pricing in 30 days, no click in 60 days',
    teamId: TEAMS.big,
    purpose: 'sending',
    rule: MIXED_RULE,
  },
  {
    label: 'the same mixed rule in the Japanese workspace (100k leads)',
    teamId: TEAMS.japan,
    purpose: 'sending',
    rule: MIXED_RULE,
  },
  {
    label: 'behaviour-heavy: ≥ 3 opens in 30 days, visited /products/* in 14 days, downloaded or attended in 90 days, never requested a demo',
    teamId: TEAMS.big,
    purpose: 'sending',
    rule: {
      type: 'all',
      rules: [
        { type: 'behaviour', behaviour: 'email_opened', within_days: 30, at_least: 3 },
        { type: 'behaviour', behaviour: 'page_visited', url: '/products/*', within_days: 14 },
        {
          type: 'any',
          rules: [
            { type: 'behaviour', behaviour: 'event', name: 'resource_download', within_days: 90 },
            { type: 'behaviour', behaviour: 'event', name: 'webinar_attended', within_days: 90 },
          ],
        },
        { type: 'behaviour', behaviour: 'event', name: 'demo_requested', never: true },
      ],
    },
  },
  {
    label: 'custom attributes: employees ≥ 500, plan pro or enterprise, country DE, consideration or decision',
    teamId: TEAMS.big,
    purpose: 'sending',
    rule: {
      type: 'all',
      rules: [
        { type: 'attribute', name: 'employees', op: 'gte', value: 500 },
        { type: 'attribute', name: 'plan', op: 'one_of', value: ['pro', 'enterprise'] },
        { type: 'attribute', name: 'country', op: 'equals', value: 'DE' },
        { type: 'field', field: 'stage', op: 'one_of', value: ['consideration', 'decision'] },
      ],
    },
  },
  {
    label: 'broad: awareness stage, not public sector (subscribed)',
    teamId: TEAMS.big,
    purpose: 'sending',
    page: true,
    rule: {
      type: 'all',
      rules: [
        { type: 'field', field: 'stage', op: 'equals', value: 'awareness' },
        { type: 'not', rule: { type: 'field', field: 'industry', op: 'equals', value: 'public sector' } },
      ],
    },
  },
  {
    label: 'broad with behaviour: opened an email in 90 days or visited the site in 30 days (subscribed)',
    teamId: TEAMS.big,
    purpose: 'sending',
    page: true,
    rule: {
      type: 'any',
      rules: [
        { type: 'behaviour', behaviour: 'email_opened', within_days: 90 },
        { type: 'behaviour', behaviour: 'page_visited', url: '/*', within_days: 30 },
      ],
    },
  },
];

export async function benchSegments() {
  const logger = createLogger('warn');
  const dataset = await openSegmentDataset(logger, { fresh: process.env.BENCH_FRESH === '1' });
  const { summary } = dataset;
  console.log(
    `data set v${summary.version} generated ${summary.generatedAt}${dataset.generated ? ` in ${summary.seconds} s` : ' (cached)'}: ` +
      `${summary.leads.toLocaleString('en-US')} leads ${JSON.stringify(summary.leadsPerTeam)}, ${summary.events.toLocaleString('en-US')} events; ${JSON.stringify(summary.sizes)}`,
  );
  console.log(`load average before measuring: ${(await loadAverage()).join(' ')}`);
  // A second client that records the text and parameters of each statement, for EXPLAIN.
  const captured: Captured[] = [];
  const explainSql = postgres(dataset.url, {
    max: 1,
    onnotice: () => {},
    types: { bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) } },
    debug: (_connection, query, parameters) => captured.push({ query, parameters }),
  }) as unknown as Sql;
  const plans: string[] = [`EXPLAIN (ANALYZE, BUFFERS) of the segment queries measured by bench/segments.ts (data set generated ${summary.generatedAt})\n`];
  try {
    const services = { sql: dataset.sql } as unknown as Services; // previewAudience only uses services.sql
    for (const bench of RULES) {
      const rule = RuleSchema.parse(bench.rule);
      const now = new Date(summary.generatedAt);
      const context: RuleContext = { teamId: bench.teamId, now };
      const options: AudienceOptions = { purpose: bench.purpose };
      console.log(`\n${bench.label} [${bench.teamId}, ${bench.purpose}]`);

      const total: number[] = [];
      const counts: number[] = [];
      const samples: number[] = [];
      let size = 0;
      try {
        for (let run = 0; run < WARMUP + RUNS; run++) {
          const t0 = performance.now();
          const preview = await previewAudience(services, bench.teamId, rule, options, now);
          const elapsed = performance.now() - t0;
          size = preview.count;
          if (run >= WARMUP) total.push(elapsed);
        }
      } catch (error) {
        // previewAudience gives up after PREVIEW_TIMEOUT_MS: report it and go on with the next rule.
        console.log(`  preview failed: ${(error as Error).message}`);
        continue;
      }
      // The two statements on their own, to show which one dominates.
      for (let run = 0; run < Math.min(RUNS, 15); run++) {
        let t0 = performance.now();
        await countAudience(dataset.sql, rule, context, options);
        counts.push(performance.now() - t0);
        t0 = performance.now();
        await sampleAudience(dataset.sql, rule, context, options, 5);
        samples.push(performance.now() - t0);
      }
      // The sample (two statements when the newest leads hold too few matches) must equal the plain query.
      const sample = await sampleAudience(dataset.sql, rule, context, options, 5);
      const reference = await dataset.sql<{ id: number }[]>`
        SELECT l.id FROM leads l WHERE ${audienceWhere(dataset.sql, rule, context, options)} ORDER BY l.id DESC LIMIT 5`;
      const same = sample.map((row) => row.id).join() === reference.map((row) => row.id).join();
      console.log(`  audience: ${size.toLocaleString('en-US')} leads; sample ${same ? 'equals' : 'DIFFERS FROM'} the single-statement ORDER BY id DESC LIMIT 5`);
      summarize('  count + 5 newest (previewAudience)', total);
      summarize('    count alone', counts);
      summarize('    5 newest alone', samples);

      // The statements each function sends (the sample sends one or two), with the settings it makes
      // for them (set_config … local), for EXPLAIN under the same settings.
      const explained: Array<{ what: string; settings: Captured[]; query: string; parameters: unknown[] }> = [];
      const record = async (what: string, run: () => Promise<unknown>) => {
        captured.length = 0;
        await run();
        const settings = captured.filter((statement) => /set_config\(/.test(statement.query));
        const statements = captured.filter((statement) => /FROM leads l\b/.test(statement.query));
        statements.forEach((statement, index) =>
          explained.push({ what: statements.length > 1 ? `${what}, statement ${index + 1} of ${statements.length}` : what, settings, ...statement }),
        );
      };
      await record('count', () => countAudience(explainSql, rule, context, options));
      await record('5 newest', () => sampleAudience(explainSql, rule, context, options, 5));
      if (bench.page) {
        const pageTimes: number[] = [];
        let afterId = 0;
        let rows = 0;
        let pages = 0;
        const started = performance.now();
        for (;;) {
          const t0 = performance.now();
          const page = await pageAudience(dataset.sql, rule, context, { ...options, afterId, limit: PAGE_SIZE });
          pageTimes.push(performance.now() - t0);
          pages += 1;
          rows += page.length;
          if (page.length < PAGE_SIZE) break;
          afterId = page.at(-1)!.id;
        }
        const seconds = (performance.now() - started) / 1000;
        console.log(`  keyset paging, pages of ${PAGE_SIZE}: ${rows.toLocaleString('en-US')} leads in ${pages} pages, ${seconds.toFixed(2)} s total${rows === size ? '' : ` (MISMATCH: count said ${size})`}`);
        summarize('    per page', pageTimes);
        // A page from the middle of the audience, for the plan.
        const middle = await pageAudience(dataset.sql, rule, context, { ...options, afterId: 0, limit: Math.floor(size / 2) });
        await record(`page of ${PAGE_SIZE} from the middle`, () => pageAudience(explainSql, rule, context, { ...options, afterId: middle.at(-1)?.id ?? 0, limit: PAGE_SIZE }));
      }
      plans.push(`${'='.repeat(100)}\n${bench.label} [${bench.teamId}, ${bench.purpose}]: ${size} leads\n`);
      for (const statement of explained) {
        const rows = await explainSql.begin(async (tx) => {
          for (const setting of statement.settings) await tx.unsafe(setting.query, setting.parameters as never[]);
          return tx.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${statement.query}`, statement.parameters as never[]);
        });
        const settings = statement.settings.map((setting) => `${setting.query.trim()} ${JSON.stringify(setting.parameters)}`).join('; ');
        plans.push(
          `--- ${statement.what}\n${statement.query.trim()}\n-- parameters: ${JSON.stringify(statement.parameters)}\n-- in a transaction after: ${settings}\n` +
            `${rows.map((row) => row['QUERY PLAN']).join('\n')}\n`,
        );
      }
    }
    await reportPlanCaching(dataset.sql);
    await writeFile(PLANS_FILE, plans.join('\n'));
    console.log(`\nplans written to ${path.relative(process.cwd(), PLANS_FILE)}; load average after: ${(await loadAverage()).join(' ')}`);
  } finally {
    await explainSql.end({ timeout: 5 });
    await dataset.stop();
  }
}

interface Captured {
  query: string;
  parameters: unknown[];
}

/** postgres.js prepares each statement; after 5 runs Postgres may switch to a generic plan. Say which ran. */
async function reportPlanCaching(sql: Sql) {
  const rows = await sql<{ statement: string; generic_plans: number; custom_plans: number }[]>`
    SELECT statement, generic_plans::int, custom_plans::int FROM pg_prepared_statements
    WHERE statement ILIKE '%FROM leads l%' AND statement NOT ILIKE '%pg_prepared_statements%'`;
  const generic = rows.filter((row) => row.generic_plans > 0);
  console.log(`\nprepared audience statements: ${rows.length}, of which ${generic.length} switched to a generic plan`);
  for (const row of generic) console.log(`  generic: ${row.statement.replace(/\s+/g, ' ').slice(0, 160)}…`);
}

async function loadAverage(): Promise<string[]> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3);
}
