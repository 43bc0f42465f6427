import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { createSql, type Sql } from '../../src/db/client.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { MigrationError, runMigrations } from '../../src/db/migrate.ts';
import type { Logger } from '../../src/lib/logger.ts';

/**
 * A realistic segments data set: ~1,000,000 leads in four workspaces of different sizes and ~5,000,000
 * behaviour events over 180 days, written set-based (INSERT … SELECT over generate_series; no row
 * leaves Postgres). Deterministic: every "random" choice is a hash of the row's key, so two runs
 * produce the same rows (ids, values, times relative to the generation time).
 *
 * Generating takes ~75 s on the 2-core bench machine, so the cluster is kept between runs in
 * `<tmpdir>/nurture-bench-segments-v<DATASET_VERSION>` (~3.5 GB; delete the folder to get the space
 * back). Bump DATASET_VERSION when the generator changes; `fresh: true` (BENCH_FRESH=1) throws the
 * cache away. Migrations added later are
 * applied to the cached data on open (then ANALYZE); a migration edited after it was applied forces
 * a fresh data set.
 */
export const DATASET_VERSION = 1;

export const TEAMS = {
  /** The big workspace, ~400k leads. */
  big: 'T0BENCHBIG',
  mid: 'T0BENCHMID',
  small: 'T0BENCHSML',
  /** A Japanese company: mostly Japanese names, titles and pages under /ja. */
  japan: 'T0BENCHJPN',
} as const;

/** Share of the leads per workspace (by a hash of the global position, so ids interleave as in real use). */
const TEAM_SHARES: Array<[string, number, number]> = [
  // team, share of leads, share of Japanese names
  [TEAMS.big, 0.4, 0.04],
  [TEAMS.mid, 0.3, 0.03],
  [TEAMS.small, 0.2, 0.03],
  [TEAMS.japan, 0.1, 0.7],
];

export interface DatasetOptions {
  leads?: number;
  events?: number;
  days?: number;
}

const DEFAULTS: Required<DatasetOptions> = { leads: 1_000_000, events: 5_000_000, days: 180 };

export interface DatasetSummary {
  version: number;
  /** "Now" of the data set: event times are relative to it, so rules must be evaluated at this time. */
  generatedAt: string;
  leads: number;
  events: number;
  seconds: number;
  leadsPerTeam: Record<string, number>;
  sizes: Record<string, string>;
}

export interface SegmentDataset {
  readonly sql: Sql;
  readonly url: string;
  readonly summary: DatasetSummary;
  /** Whether this run generated the data (false: the cached cluster was reused). */
  readonly generated: boolean;
  stop(): Promise<void>;
}

/**
 * Opens the cached data set, generating it first if there is none (or `fresh`). The server runs with
 * durable settings while measuring; generation runs with fsync off (a crash there discards the cache).
 */
export async function openSegmentDataset(logger: Logger, options: { fresh?: boolean; log?: (line: string) => void } = {}): Promise<SegmentDataset> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = path.join(os.tmpdir(), `nurture-bench-segments-v${DATASET_VERSION}`);
  const readyFile = path.join(dataDir, 'dataset.json');
  let fresh = options.fresh === true || !existsSync(readyFile);

  for (;;) {
    if (fresh) {
      await rm(dataDir, { recursive: true, force: true });
      await mkdir(dataDir, { recursive: true });
      await chmod(dataDir, 0o755); // as root, the embedded Postgres runs as the postgres user
    }
    let server: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir, logger, ephemeral: fresh });
    let url = await ensureDatabase(server.adminUrl, 'bench');
    let sql = createSql(url, logger, { max: 1, applicationName: 'nurture-bench' });
    try {
      const migrated = await runMigrations(sql, logger);
      let summary: DatasetSummary;
      if (fresh) {
        log(`generating the segments data set in ${dataDir} (~75 s; kept for later runs)…`);
        summary = await generateDataset(sql, DEFAULTS, log);
        await writeFile(readyFile, `${JSON.stringify(summary, null, 2)}\n`);
        // Measure on a server with production settings (fsync on), not the one that loaded the data.
        await sql.end();
        await server.stop();
        server = await startEmbeddedPostgres({ dataDir, logger });
        url = await ensureDatabase(server.adminUrl, 'bench');
        sql = createSql(url, logger, { max: 1, applicationName: 'nurture-bench' });
      } else {
        summary = JSON.parse(await readFile(readyFile, 'utf8')) as DatasetSummary;
        if (migrated.applied.length > 0) {
          log(`applied ${migrated.applied.join(', ')} to the cached data set; analysing…`);
          await sql`VACUUM (ANALYZE) leads`;
          await sql`VACUUM (ANALYZE) events`;
        }
      }
      const running = server;
      const client = sql;
      return {
        sql: client,
        url,
        summary,
        generated: fresh,
        async stop() {
          await client.end({ timeout: 5 });
          await running.stop();
        },
      };
    } catch (error) {
      await sql.end({ timeout: 5 }).catch(() => undefined);
      await server.stop();
      if (error instanceof MigrationError && !fresh) {
        log(`the cached data set cannot be migrated (${error.message}); generating a fresh one`);
        fresh = true;
        continue;
      }
      throw error;
    }
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (!exists) await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Fills an empty, migrated database. Secondary indexes of leads and events are dropped first and
 * rebuilt from their own definitions afterwards (a sorted build is far faster than 5M index
 * insertions), whatever the migrations define; foreign-key triggers are off during the load (the
 * generator only writes consistent rows). Ends with VACUUM ANALYZE, as autovacuum would in production.
 */
export async function generateDataset(sql: Sql, options: DatasetOptions, log: (line: string) => void): Promise<DatasetSummary> {
  const { leads, events, days } = { ...DEFAULTS, ...options };
  const started = performance.now();
  const step = async (label: string, run: () => Promise<unknown>) => {
    const t0 = performance.now();
    await run();
    log(`  ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  const [clock] = await sql<{ now: Date }[]>`SELECT date_trunc('second', now()) AS now`;
  const now = clock!.now;
  const nowLiteral = `'${now.toISOString()}'::timestamptz`;

  await sql.unsafe(`SET session_replication_role = replica`);
  await sql.unsafe(`SET maintenance_work_mem = '1GB'`);
  await sql.unsafe(`SET work_mem = '256MB'`);
  await sql.unsafe(RANDOM_FUNCTION);

  const indexes = await sql<{ name: string; definition: string }[]>`
    SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid IN ('leads'::regclass, 'events'::regclass)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
    ORDER BY c.relname`;
  await step(`dropped ${indexes.length} secondary indexes`, async () => {
    for (const index of indexes) await sql`DROP INDEX ${sql(index.name)}`;
  });

  await sql`INSERT INTO workspaces (team_id) SELECT unnest(${Object.values(TEAMS)}::text[]) ON CONFLICT DO NOTHING`;
  await step(`${leads.toLocaleString('en-US')} leads`, () => sql.unsafe(leadsInsert(leads, nowLiteral)));
  await sql`SELECT ensure_event_partitions((${now}::timestamptz - make_interval(days => ${days + 31}))::date, 3)`;
  await step('event counts per lead', () => sql.unsafe(activityTable(events, nowLiteral)));
  await step('events', () => sql.unsafe(eventsInsert(days, nowLiteral)));
  await sql.unsafe(`SET session_replication_role = DEFAULT`);

  await step(`rebuilt ${indexes.length} indexes`, async () => {
    // The definition of an index on the partitioned parent reads `ON ONLY events`: without ONLY it
    // builds the partitions' indexes too.
    for (const index of indexes) await sql.unsafe(index.definition.replace(' ON ONLY ', ' ON '));
  });
  await step('VACUUM ANALYZE', async () => {
    await sql`VACUUM (ANALYZE) leads`;
    await sql`VACUUM (ANALYZE) events`;
  });
  await sql`CHECKPOINT`;

  const perTeam = await sql<{ team_id: string; count: number }[]>`SELECT team_id, count(*)::int AS count FROM leads GROUP BY team_id ORDER BY count DESC`;
  const [totals] = await sql<{ leads: number; events: number }[]>`SELECT (SELECT count(*)::int FROM leads) AS leads, (SELECT count(*)::int FROM events) AS events`;
  const sizes = await sql<{ name: string; size: string }[]>`
    SELECT name, pg_size_pretty(size) AS size FROM (
      SELECT 'leads (table)' AS name, pg_table_size('leads') AS size
      UNION ALL SELECT 'leads (indexes)', pg_indexes_size('leads')
      UNION ALL SELECT 'events (table)', sum(pg_table_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'events'::regclass
      UNION ALL SELECT 'events (indexes)', sum(pg_indexes_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'events'::regclass
    ) s`;
  const summary: DatasetSummary = {
    version: DATASET_VERSION,
    generatedAt: now.toISOString(),
    leads: totals!.leads,
    events: totals!.events,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    leadsPerTeam: Object.fromEntries(perTeam.map((row) => [row.team_id, row.count])),
    sizes: Object.fromEntries(sizes.map((row) => [row.name, row.size])),
  };
  log(`  ${summary.leads.toLocaleString('en-US')} leads, ${summary.events.toLocaleString('en-US')} events in ${summary.seconds} s`);
  return summary;
}

/** pg_temp.rnd(key, salt): a uniform number in [0, 1) from a hash, the same for the same arguments. */
const RANDOM_FUNCTION = `
  CREATE OR REPLACE FUNCTION pg_temp.rnd(key bigint, salt bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
  $$ SELECT (hashint8extended(key, salt) & 9007199254740991)::float8 / 9007199254740992.0 $$`;

// ---- building blocks for the generator's SQL (constant text only: nothing here comes from input) ----

const literal = (value: string | null) => (value === null ? 'NULL' : `'${value.replace(/'/g, "''")}'`);
const array = (values: readonly string[]) => `ARRAY[${values.map(literal).join(', ')}]`;
/** Weighted choice: CASE over cumulative weights of `u` (a number in [0, 1)). */
function weighted(u: string, choices: ReadonlyArray<readonly [string | null, number]>): string {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let cumulative = 0;
  const arms = choices.slice(0, -1).map(([value, weight]) => {
    cumulative += weight / total;
    return `WHEN ${u} < ${cumulative.toFixed(6)} THEN ${literal(value)}`;
  });
  return `(CASE ${arms.join(' ')} ELSE ${literal(choices.at(-1)![0])} END)`;
}
/** Skewed choice from a list ordered most popular first: index = n·u^power (power > 1: a long tail). */
const skewed = (u: string, values: readonly string[], power: number) =>
  `(${array(values)})[1 + floor(${values.length} * power(${u}, ${power}))::int]`;
const uniform = (u: string, values: readonly string[]) => `(${array(values)})[1 + floor(${values.length} * ${u})::int]`;

const FIRST_NAMES = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Daniel', 'Karen', 'Matthew', 'Lisa', 'Anthony', 'Nancy', 'Mark', 'Sandra', 'Steven', 'Ashley', 'Paul', 'Emily', 'Andrew', 'Michelle', 'Joshua', 'Amanda', 'Lukas', 'Anna', 'Jonas', 'Lea', 'Priya', 'Arjun', 'Mei', 'Wei', 'Sofia', 'Mateo', 'Olivia', 'Noah', 'Chloé', 'Jürgen'];
const LAST_NAMES = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis', 'Walker', 'Hall', 'Young', 'King', 'Wright', 'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Patel', 'Sharma', 'Chen', 'Wang', 'Nguyen', 'Kim', 'Rossi', 'Dubois', "O'Brien"];
// Japanese names with their romanisation (same index), used for the address.
const JA_FIRST = ['結衣', '陽翔', '蓮', '葵', '大翔', '美咲', '健太', '直樹', '裕子', '智子', '翔太', '彩', '拓也', '真由美', '誠', '明美', '大輔', '由美', '浩', '恵'];
const JA_FIRST_ROMAJI = ['yui', 'haruto', 'ren', 'aoi', 'hiroto', 'misaki', 'kenta', 'naoki', 'yuko', 'tomoko', 'shota', 'aya', 'takuya', 'mayumi', 'makoto', 'akemi', 'daisuke', 'yumi', 'hiroshi', 'megumi'];
const JA_LAST = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村', '小林', '加藤', '吉田', '山田', '佐々木', '山口', '松本', '井上', '木村', '林', '斎藤', '清水'];
const JA_LAST_ROMAJI = ['sato', 'suzuki', 'takahashi', 'tanaka', 'ito', 'watanabe', 'yamamoto', 'nakamura', 'kobayashi', 'kato', 'yoshida', 'yamada', 'sasaki', 'yamaguchi', 'matsumoto', 'inoue', 'kimura', 'hayashi', 'saito', 'shimizu'];

const COMPANY_PREFIXES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay', 'Tyrell', 'Cyberdyne', 'Soylent', 'Wonka', 'Gringotts', 'Aperture', 'Oscorp', 'Nakatomi', 'Dunder', 'Pied Piper', 'Massive', 'Contoso', 'Fabrikam', 'Northwind', 'Adventure', 'Litware', 'Tailspin', 'Proseware', 'Woodgrove', 'Alpine', 'Blue Yonder', 'Coho', 'Fourth Coffee', 'Lamna', 'Margie', 'Trey', 'Wingtip', 'Humongous', 'Baltic', 'Rhine', 'Nordic', 'Pacific'];
const COMPANY_CORES = ['Robotics', 'Logistics', 'Systems', 'Industries', 'Components', 'Analytics', 'Software', 'Motors', 'Materials', 'Precision', 'Energy', 'Foods', 'Health', 'Capital', 'Labs', 'Networks', 'Machines', 'Plastics', 'Chemicals', 'Textiles'];
const COMPANY_LEGAL = ['Inc.', 'GmbH', 'Ltd', 'LLC', 'AG', 'S.A.', 'Corp.', 'B.V.'];
const JA_COMPANY_PREFIXES = ['山田', '東京', '大阪', '日本', '北海道', '富士', '桜', '中央', '東洋', '三河'];
const JA_COMPANY_CORES = ['製作所', '精機', '物流', '電機', '化学', '工業', 'システムズ', '商事', '食品', 'ソフトウェア'];

// Most common first (skewed choice): engineers and managers far outnumber VPs and the C-suite.
const TITLES = ['Software Engineer', 'Operations Manager', 'Marketing Manager', 'Senior Software Engineer', 'Account Executive', 'Data Analyst', 'Product Manager', 'IT Manager', 'Procurement Manager', 'Engineering Manager', 'Plant Manager', 'Sales Representative', 'Supply Chain Analyst', 'Quality Engineer', 'Project Manager', 'Director of Engineering', 'Director of Operations', 'Director of Marketing', 'Head of IT', 'Head of Procurement', 'VP of Sales', 'VP Engineering', 'VP of Operations', 'VP Marketing', 'Director, Supply Chain', 'Vice President, Manufacturing', 'SVP Sales', 'EVP Operations', 'CTO', 'CIO', 'COO', 'CEO', 'CFO', 'Founder', 'Consultant', 'Intern'];
const JA_TITLES = ['エンジニア', '営業', 'マーケティング担当', '情報システム部 課長', '製造部 課長', '購買部 課長', '営業部長', '情報システム部 部長', '製造部 部長', 'VP of Engineering', 'VP Sales Japan', '執行役員', '取締役 CTO', '代表取締役社長'];
const INDUSTRIES: Array<[string | null, number]> = [
  ['manufacturing', 15], ['Manufacturing', 4], ['software', 16], ['Software', 3], ['logistics', 8], ['finance', 8], ['Financial Services', 2], ['retail', 8],
  ['healthcare', 8], ['energy', 5], ['automotive', 6], ['telecommunications', 4], ['education', 3], ['public sector', 3], ['construction', 3], [null, 4],
];
const PRODUCTS = ['robots', 'vision', 'scheduler', 'analytics', 'edge-gateway', 'mes', 'quality', 'maintenance', 'twin', 'api', 'mobile', 'security'];
const BLOG_TOPICS = ['predictive-maintenance', 'oee', 'supply-chain', 'industry-4-0', 'lean', 'iot-security', 'digital-twin', 'erp-integration', 'quality-control', 'energy-savings', 'case-study', 'release-notes'];
const DOC_SECTIONS = ['getting-started', 'api', 'integrations', 'admin', 'security', 'reference'];
const INTEGRATIONS = ['sap', 'salesforce', 'hubspot', 'slack', 'teams', 'snowflake', 'oracle', 'dynamics'];
const ASSETS = ['whitepaper-smart-factory', 'roi-calculator', 'checklist-iso-9001', 'ebook-predictive-maintenance', 'whitepaper-x', 'datasheet-robots', 'datasheet-vision', 'case-study-acme', 'guide-oee', 'report-2026-benchmark', 'template-rfp', 'whitepaper-security'];
const SEQUENCES = ['onboarding', 'pricing-nurture', 'webinar-follow-up', 're-engagement'];
const CLICK_URLS = ['/pricing', '/demo', '/products/robots', '/blog/oee-101', '/case-studies/acme', '/webinars/2026-11', '/products/vision', '/docs/getting-started'];

function leadsInsert(count: number, now: string): string {
  // u(n): uniform numbers per lead, each salt an independent draw.
  const u = (salt: number) => `pg_temp.rnd(g, ${salt})`;
  const teamCase = `(CASE ${TEAM_SHARES.slice(0, -1)
    .map(([, share], index) => `WHEN ${u(1)} < ${TEAM_SHARES.slice(0, index + 1).reduce((sum, [, s]) => sum + s, 0).toFixed(4)} THEN ${index + 1}`)
    .join(' ')} ELSE ${TEAM_SHARES.length} END)`;
  const japaneseShare = `(${array(TEAM_SHARES.map(([, , ja]) => String(ja)))})[t]::float8`;
  const companyIndex = `floor(12000 * power(${u(5)}, 2))::int`; // a few companies with many leads, a long tail with one
  return `
    WITH base AS (
      SELECT g, ${teamCase} AS t FROM generate_series(1, ${count}) g
    ), person AS (
      SELECT g, t, (${array(TEAM_SHARES.map(([team]) => team))})[t] AS team_id,
        ${u(2)} < ${japaneseShare} AS ja,
        1 + floor(${JA_FIRST.length} * ${u(3)})::int AS jf, 1 + floor(${JA_LAST.length} * ${u(4)})::int AS jl,
        ${companyIndex} AS c,
        -- ids grow with time: leads arrived over two years, more of them recently
        ${now} - make_interval(secs => 730 * 86400 * power(1 - g::float8 / ${count}, 1.3)) AS created_at
      FROM base
    )
    INSERT INTO leads (team_id, email, first_name, last_name, company, title, industry, stage, source, time_zone, locale,
                       owner_user_id, attributes, status, consent_at, consent_source, created_at, updated_at)
    SELECT team_id,
      lower(CASE WHEN ja THEN (${array(JA_FIRST_ROMAJI)})[jf] || '.' || (${array(JA_LAST_ROMAJI)})[jl]
                 ELSE replace(translate(${uniform(u(6), FIRST_NAMES)} || '.' || ${uniform(u(7), LAST_NAMES)}, 'üéö''', 'ueo'), ' ', '') END)
        || '.' || g || '@' || CASE WHEN ja AND t = 4 THEN 'co' || c || '.example.co.jp' ELSE 'company' || c || '.example' END,
      CASE WHEN ja THEN (${array(JA_FIRST)})[jf] ELSE ${uniform(u(6), FIRST_NAMES)} END,
      CASE WHEN ja THEN (${array(JA_LAST)})[jl] ELSE ${uniform(u(7), LAST_NAMES)} END,
      CASE WHEN ${u(8)} < 0.03 THEN NULL
           WHEN ja THEN '株式会社' || (${array(JA_COMPANY_PREFIXES)})[1 + c % ${JA_COMPANY_PREFIXES.length}] || (${array(JA_COMPANY_CORES)})[1 + (c / ${JA_COMPANY_PREFIXES.length}) % ${JA_COMPANY_CORES.length}]
           ELSE (${array(COMPANY_PREFIXES)})[1 + c % ${COMPANY_PREFIXES.length}] || ' ' || (${array(COMPANY_CORES)})[1 + (c / ${COMPANY_PREFIXES.length}) % ${COMPANY_CORES.length}]
                || ' ' || (${array(COMPANY_LEGAL)})[1 + (c / ${COMPANY_PREFIXES.length * COMPANY_CORES.length}) % ${COMPANY_LEGAL.length}] END,
      CASE WHEN ${u(9)} < 0.05 THEN NULL WHEN ja AND ${u(10)} < 0.8 THEN ${skewed(u(11), JA_TITLES, 1.8)} ELSE ${skewed(u(11), TITLES, 2.3)} END,
      ${weighted(u(12), INDUSTRIES)},
      ${weighted(u(13), [['awareness', 58], ['consideration', 22], ['decision', 11], ['customer', 9]])},
      ${weighted(u(14), [['website', 35], ['csv-import', 25], ['webinar', 15], ['trade-show', 10], ['referral', 5], ['api', 10]])},
      CASE WHEN ja THEN 'Asia/Tokyo' ELSE ${weighted(u(15), [['America/New_York', 30], ['America/Los_Angeles', 20], ['Europe/London', 15], ['Europe/Berlin', 20], [null, 15]])} END,
      CASE WHEN ja THEN 'ja-JP' ELSE ${weighted(u(16), [['en-US', 55], ['en-GB', 15], ['de-DE', 18], [null, 12]])} END,
      CASE WHEN ${u(17)} < 0.25 THEN 'U0REP' || lpad((1 + floor(12 * ${u(18)}))::int::text, 4, '0') END,
      jsonb_strip_nulls(jsonb_build_object(
        -- log-uniform 5 … 50,000 employees; a CSV import stores numbers as text now and then
        'employees', CASE WHEN ${u(19)} < 0.15 THEN NULL
                          WHEN ${u(20)} < 0.08 THEN to_jsonb(floor(exp(ln(5) + ${u(21)} * ln(10000)))::int::text)
                          ELSE to_jsonb(floor(exp(ln(5) + ${u(21)} * ln(10000)))::int) END,
        'plan', ${weighted(u(22), [['free', 45], ['pro', 30], ['enterprise', 12], [null, 13]])},
        'country', CASE WHEN ja THEN 'JP' ELSE ${weighted(u(23), [['US', 45], ['DE', 20], ['GB', 12], ['FR', 6], ['IN', 7], [null, 10]])} END,
        'crm_id', CASE WHEN ${u(24)} < 0.6 THEN 'CRM-' || (100000 + g) END,
        'renewal', CASE WHEN ${u(25)} < 0.1 THEN to_char(${now} + make_interval(days => floor(365 * ${u(26)})::int), 'YYYY-MM-DD') END
      )),
      ${weighted(u(27), [['subscribed', 88], ['unsubscribed', 8], ['bounced', 3], ['complained', 1]])},
      CASE WHEN ${u(28)} < 0.8 THEN created_at END,
      CASE WHEN ${u(28)} < 0.8 THEN ${weighted(u(29), [['website form', 50], ['webinar sign-up form', 25], ['csv import', 25]])} END,
      created_at,
      created_at + (${now} - created_at) * ${u(30)}
    FROM person ORDER BY g`;
}

/**
 * How many events each lead has: log-normal (most leads do little, a few do a lot), more for leads
 * further down the funnel, scaled so the total is about `events`.
 */
function activityTable(events: number, now: string): string {
  return `
    CREATE TEMP TABLE activity AS
    WITH weights AS (
      SELECT id AS lead_id, team_id, created_at,
        pg_temp.rnd(id, 101) AS web_affinity,
        exp(1.8 * sqrt(-2 * ln(1 - pg_temp.rnd(id, 102))) * cos(2 * pi() * pg_temp.rnd(id, 103)))
          * CASE stage WHEN 'awareness' THEN 0.7 WHEN 'consideration' THEN 1.6 WHEN 'decision' THEN 2.5 ELSE 1.2 END
          * CASE status WHEN 'subscribed' THEN 1 ELSE 0.4 END AS weight
      FROM leads
    )
    SELECT lead_id, team_id, web_affinity,
      -- days of history: 180, or since the lead arrived
      least(180, extract(epoch FROM ${now} - created_at) / 86400) AS span_days,
      least(3000, floor(weight * ${events} / sum(weight) OVER () + pg_temp.rnd(lead_id, 104)))::int AS n
    FROM weights`;
}

function eventsInsert(days: number, now: string): string {
  const u = (salt: number) => `pg_temp.rnd(key, ${salt})`;
  const pagePath = `(CASE
      WHEN ${u(10)} < 0.17 THEN '/'
      WHEN ${u(10)} < 0.25 THEN '/pricing'
      WHEN ${u(10)} < 0.38 THEN '/products/' || ${skewed(u(11), PRODUCTS, 1.5)}
      WHEN ${u(10)} < 0.64 THEN '/blog/' || ${uniform(u(12), BLOG_TOPICS)} || '-' || floor(2500 * power(${u(13)}, 3))::int
      WHEN ${u(10)} < 0.76 THEN '/docs/' || ${uniform(u(11), DOC_SECTIONS)} || '/page-' || floor(300 * power(${u(13)}, 2))::int
      WHEN ${u(10)} < 0.82 THEN '/case-studies/customer-' || floor(60 * ${u(11)})::int
      WHEN ${u(10)} < 0.86 THEN '/integrations/' || ${uniform(u(11), INTEGRATIONS)}
      WHEN ${u(10)} < 0.89 THEN '/demo'
      WHEN ${u(10)} < 0.92 THEN '/contact'
      WHEN ${u(10)} < 0.95 THEN '/about'
      WHEN ${u(10)} < 0.97 THEN '/careers'
      ELSE '/webinars/' || to_char(${now} - make_interval(days => floor(180 * ${u(11)})::int), 'YYYY-MM') END)`;
  return `
    INSERT INTO events (team_id, lead_id, kind, name, properties, url_path, source, dedupe_key, occurred_at, received_at, verdict, verdict_reason)
    SELECT team_id, lead_id, kind, name, properties, url_path, source, dedupe_key, occurred_at, occurred_at + make_interval(secs => 1 + 30 * ${u(3)}),
      verdict, CASE verdict WHEN 'machine' THEN CASE name WHEN 'email_opened' THEN 'privacy-proxy' WHEN 'email_clicked' THEN 'link-scanner' ELSE 'bot' END END
    FROM (
      SELECT team_id, lead_id, key, kind, name, occurred_at,
        CASE kind WHEN 'email' THEN 'tracking' WHEN 'web' THEN 'tracking' ELSE 'api' END AS source,
        CASE WHEN kind = 'web' THEN path END AS url_path,
        CASE name
          WHEN 'email_opened' THEN jsonb_strip_nulls(jsonb_build_object('message', message, 'sequence', sequence))
          WHEN 'email_clicked' THEN jsonb_strip_nulls(jsonb_build_object('message', message, 'sequence', sequence, 'url', 'https://www.example.com' || ${skewed(u(14), CLICK_URLS, 1.4)}))
          WHEN 'page_view' THEN jsonb_build_object('url', 'https://www.example.com' || path) || CASE WHEN ${u(15)} < 0.2 THEN jsonb_build_object('utm_source', 'newsletter') ELSE '{}' END
          WHEN 'resource_download' THEN jsonb_build_object('asset', ${skewed(u(16), ASSETS, 1.6)})
          WHEN 'webinar_attended' THEN jsonb_build_object('webinar', 'webinar-' || to_char(occurred_at, 'YYYY-MM'))
          ELSE jsonb_build_object('product', ${skewed(u(16), PRODUCTS, 1.5)}) END AS properties,
        CASE WHEN kind = 'custom' THEN 'form-' || key END AS dedupe_key,
        CASE name
          WHEN 'email_opened' THEN CASE WHEN ${u(17)} < 0.18 THEN 'machine' ELSE 'human' END
          WHEN 'email_clicked' THEN CASE WHEN ${u(17)} < 0.06 THEN 'machine' ELSE 'human' END
          WHEN 'page_view' THEN CASE WHEN ${u(17)} < 0.02 THEN 'machine' ELSE 'human' END END AS verdict
      FROM (
        SELECT a.team_id, a.lead_id, key,
          CASE WHEN kind_u < web_share THEN 'web' WHEN rest_u < 0.86 THEN 'email' ELSE 'custom' END AS kind,
          CASE WHEN kind_u < web_share THEN 'page_view' WHEN rest_u < 0.70 THEN 'email_opened' WHEN rest_u < 0.86 THEN 'email_clicked'
               WHEN rest_u < 0.94 THEN 'resource_download' WHEN rest_u < 0.985 THEN 'webinar_attended' ELSE 'demo_requested' END AS name,
          -- recent activity is denser: the age in days is span·u^1.7
          ${now} - make_interval(secs => a.span_days * 86400 * power(${u(2)}, 1.7)) AS occurred_at,
          CASE WHEN a.team_id = '${TEAMS.japan}' AND ${u(9)} < 0.5 THEN rtrim('/ja' || ${pagePath}, '/') ELSE ${pagePath} END AS path,
          CASE WHEN ${u(5)} < 0.55 THEN 'newsletter-' || to_char(${now} - make_interval(days => floor(${days} * ${u(6)})::int), 'YYYY-MM')
               ELSE ${uniform(u(7), SEQUENCES)} || '-' || (1 + floor(5 * ${u(8)})::int) END AS message,
          CASE WHEN ${u(5)} >= 0.55 THEN ${uniform(u(7), SEQUENCES)} END AS sequence
        FROM activity a
        CROSS JOIN LATERAL generate_series(1, a.n) k
        CROSS JOIN LATERAL (SELECT a.lead_id * 4096 + k AS key) keys
        CROSS JOIN LATERAL (SELECT pg_temp.rnd(key, 1) AS kind_u, (pg_temp.rnd(key, 1) - (0.15 + 0.6 * a.web_affinity)) / (1 - (0.15 + 0.6 * a.web_affinity)) AS rest_u,
                                   0.15 + 0.6 * a.web_affinity AS web_share) pick
        WHERE a.n > 0
      ) chosen
    ) e
    ORDER BY occurred_at`;
}
