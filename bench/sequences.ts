// The sequence scheduler at scale (issue #6): a tick handing 100,000 due steps to delivery, and a
// segment-entry sweep over a 1,000,000-lead workspace. The app runs as `web` in this process, so no worker
// takes the tick or the send jobs away from the measurement: the tick and the sweep are called directly.
import type { Services } from '../src/services.ts';
import { insertSegment } from '../src/modules/segments/queries.ts';
import { createSequence, saveStep } from '../src/modules/sequences/sequence-definitions.ts';
import { enrollLeads } from '../src/modules/sequences/runs.ts';
import { activateSequence } from '../src/modules/sequences/sequence-lifecycle.ts';
import type { SendWindow, Trigger } from '../src/modules/sequences/sequence.ts';
import { sweepSegmentTriggers } from '../src/modules/sequences/sweep-segment-triggers.ts';
import { tickSequences } from '../src/modules/sequences/tick-sequences.ts';
import { insertTemplate } from '../src/modules/templates/queries.ts';
import { updateWorkspaceSettings } from '../src/modules/workspaces/settings.ts';
import { startBenchApp, type BenchApp } from './support/bench-app.ts';

const MARKETER = 'U0BENCH';
const DUE_RUNS = Number(process.env.BENCH_DUE_RUNS ?? 100_000);
const WORKSPACE_LEADS = Number(process.env.BENCH_WORKSPACE_LEADS ?? 1_000_000);
const NEW_MEMBERS = Number(process.env.BENCH_NEW_MEMBERS ?? 50_000);
/** Open every day and hour: the tick's cost is measured, not the window's wait. */
const ALWAYS_OPEN: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59', holidays: null };

export async function benchSequences(): Promise<void> {
  await dueInOneMinute();
  await segmentEntrySweep();
}

/** 100,000 runs whose first step is due now, in four time zones: one tick hands them all to delivery. */
async function dueInOneMinute() {
  const app = await startBenchApp({ env: { NURTURE_ROLE: 'web' } });
  try {
    const { services } = app.nurture;
    await prepareWorkspace(app);
    await insertLeads(app, DUE_RUNS, 'due');
    const segment = await segmentOf(app, 'Due', { type: 'field', field: 'email', op: 'starts_with', value: 'due-' });
    const sequenceId = await activeSequence(app, 'Welcome', { kind: 'manual' }, 2);

    let started = performance.now();
    const enrolled = await enrollLeads(services, { teamId: app.teamId, sequenceId, who: { segmentId: segment }, enrolledBy: MARKETER });
    const enrollSeconds = (performance.now() - started) / 1000;
    if (!enrolled.ok) throw new Error(enrolled.reason);

    started = performance.now();
    const summary = await tickSequences(services);
    const tickSeconds = (performance.now() - started) / 1000;
    const [handed] = await services.sql<{ rows: number; chunks: number }[]>`
      SELECT count(*)::int AS rows, count(DISTINCT chunk_id)::int AS chunks FROM email_sends WHERE team_id = ${app.teamId} AND source_kind = 'sequence'`;
    const [jobs] = await services.sql<{ jobs: number }[]>`SELECT count(*)::int AS jobs FROM pgboss.job WHERE name = 'delivery.send-chunk'`;
    console.log(
      `${DUE_RUNS.toLocaleString('en')} runs due in the same minute handed to delivery by one tick: ${tickSeconds.toFixed(2)} s ` +
        `(${Math.round(DUE_RUNS / tickSeconds).toLocaleString('en')} steps/s; target: within 30 s)`,
    );
    console.log(`  tick ${JSON.stringify(summary)}; ledger rows ${handed!.rows.toLocaleString('en')} in ${handed!.chunks} chunks; send jobs queued ${jobs!.jobs}`);
    console.log(`  enrolling them (one statement from a segment): ${enrollSeconds.toFixed(2)} s, ${JSON.stringify(enrolled)}`);
  } finally {
    await app.stop();
  }
}

/**
 * A 1,000,000-lead workspace with a segment-triggered sequence activated for people who enter later;
 * then 50,000 leads enter the segment and one sweep enrolls them.
 */
async function segmentEntrySweep() {
  const app = await startBenchApp({ env: { NURTURE_ROLE: 'web' } });
  try {
    const { services } = app.nurture;
    await prepareWorkspace(app);
    let started = performance.now();
    await insertLeads(app, WORKSPACE_LEADS, 'lead');
    const loadSeconds = (performance.now() - started) / 1000;
    // One in three leads is in consideration: a third of the workspace is in the segment from the start.
    const segment = await segmentOf(app, 'Considering', { type: 'field', field: 'stage', op: 'equals', value: 'consideration' });
    const sequenceId = await sequenceWithSteps(app, 'Considering journey', { kind: 'segment', segmentId: segment }, 2);
    started = performance.now();
    const activated = await activateSequence(services, { teamId: app.teamId, sequenceId, userId: MARKETER, enrollCurrentMembers: false });
    const activateSeconds = (performance.now() - started) / 1000;
    if (!activated.ok) throw new Error(activated.reason);
    const [members] = await services.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM leads WHERE team_id = ${app.teamId} AND stage = 'consideration'`;

    await services.sql`
      INSERT INTO leads (team_id, email, first_name, company, industry, stage)
      SELECT ${app.teamId}, 'entered-' || n || '@example.com', 'New' || n, 'Company ' || (n % 5000), 'software', 'consideration'
      FROM generate_series(1, ${NEW_MEMBERS}) AS n`;
    await services.sql`ANALYZE leads`;

    started = performance.now();
    const swept = await sweepSegmentTriggers(services, { teamId: app.teamId, sequenceId });
    const sweepSeconds = (performance.now() - started) / 1000;
    console.log(
      `segment-entry sweep, ${(WORKSPACE_LEADS + NEW_MEMBERS).toLocaleString('en')}-lead workspace, ${NEW_MEMBERS.toLocaleString('en')} new members: ` +
        `${sweepSeconds.toFixed(2)} s (target: under 10 s), ${JSON.stringify(swept)}`,
    );
    console.log(
      `  activation for later entrants over ${members!.n.toLocaleString('en')} members already in the segment: ${activateSeconds.toFixed(2)} s; ` +
        `loading the ${WORKSPACE_LEADS.toLocaleString('en')} leads took ${loadSeconds.toFixed(1)} s`,
    );
    started = performance.now();
    const again = await sweepSegmentTriggers(services, { teamId: app.teamId, sequenceId });
    console.log(`  the next sweep, nobody new: ${((performance.now() - started) / 1000).toFixed(2)} s, ${JSON.stringify(again)}`);
  } finally {
    await app.stop();
  }
}

async function prepareWorkspace(app: BenchApp) {
  await updateWorkspaceSettings(app.nurture.services.sql, app.teamId, {
    senderName: 'Acme Marketing',
    postalAddress: '1 Main Street, Springfield',
    capPerDay: 20,
    capPerWeek: 50,
  });
}

/** Leads in four time zones (one in four has none: the workspace's), a third in each buying stage. */
async function insertLeads(app: BenchApp, count: number, prefix: string) {
  const sql = app.nurture.services.sql;
  for (let from = 1; from <= count; from += 250_000) {
    const to = Math.min(count, from + 249_999);
    await sql`
      INSERT INTO leads (team_id, email, first_name, last_name, company, industry, stage, time_zone)
      SELECT ${app.teamId}, ${prefix} || '-' || n || '@company' || (n % 5000) || '.example', 'First' || n, 'Last' || n, 'Company ' || (n % 5000),
             (ARRAY['software', 'logistics', 'finance'])[1 + n % 3], (ARRAY['awareness', 'consideration', 'decision'])[1 + n % 3],
             (ARRAY['Asia/Tokyo', 'Europe/Berlin', 'America/New_York', NULL])[1 + n % 4]
      FROM generate_series(${from}::int, ${to}::int) AS n`;
  }
  await sql`ANALYZE leads`;
}

async function segmentOf(app: BenchApp, name: string, rule: object): Promise<number> {
  const segment = await insertSegment(app.nurture.services.sql, { teamId: app.teamId, name, rule: rule as never, includeSuppressed: false, userId: MARKETER });
  return segment!.id;
}

async function sequenceWithSteps(app: BenchApp, name: string, trigger: Trigger, steps: number): Promise<number> {
  const services: Services = app.nurture.services;
  const template = await insertTemplate(services.sql, app.teamId, MARKETER, {
    name: `${name} email`,
    stage: 'consideration',
    subject: 'Hello {{ first_name | default: "there" }}',
    preheader: '',
    body: 'Hello {{ first_name | default: "there" }}, here is what {{ company | default: "your team" }} asked about.',
  });
  const sequenceId = await createSequence(services, app.teamId, MARKETER, {
    name,
    goal: null,
    goalEvent: null,
    trigger,
    sendWindow: ALWAYS_OPEN,
    senderName: null,
    replyTo: null,
    reenrollAfterDays: null,
  });
  for (let step = 0; step < steps; step++) {
    await saveStep(services, {
      teamId: app.teamId,
      userId: MARKETER,
      sequenceId,
      step: { templateId: template!.id, delayMinutes: step === 0 ? 0 : 3 * 24 * 60, delayFrom: 'previous', condition: null },
    });
  }
  return sequenceId;
}

async function activeSequence(app: BenchApp, name: string, trigger: Trigger, steps: number): Promise<number> {
  const sequenceId = await sequenceWithSteps(app, name, trigger, steps);
  const activated = await activateSequence(app.nurture.services, { teamId: app.teamId, sequenceId, userId: MARKETER, enrollCurrentMembers: false });
  if (!activated.ok) throw new Error(activated.reason);
  return sequenceId;
}
