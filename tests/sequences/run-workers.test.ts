import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdLeadNurture } from '../../src/modules/sequences/lead-nurture-hold.ts';
import { enrollLeads } from '../../src/modules/sequences/runs.ts';
import { pauseSequence, resumeSequence } from '../../src/modules/sequences/sequence-lifecycle.ts';
import { resumedText } from '../../src/modules/sequences/build-sequence-messages.ts';
import { sequencePausedDmText } from '../../src/modules/sequences/sequence-source.ts';
import { tickSequences } from '../../src/modules/sequences/tick-sequences.ts';
import { insertSegment } from '../../src/modules/segments/queries.ts';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import type { Enqueue } from '../../src/queue/queue-system.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { DAILY_WINDOW, MARKETER, OWNER, activeSequence, addLead, createTemplate, enrollIn, ledgerOf, runOf, settled, startSequenceApp, subjectsTo, tick, waitForEmailsTo, withWorker as runWithWorker, type SequenceSpec } from './run-support.ts';

/**
 * Two web instances (they tick when told, and run no workers: no background tick, no send job runs
 * until a worker instance is started on the same database) and worker instances started when a test
 * wants emails to go out.
 */
const clock = new ManualClock('2026-11-02T10:00:00Z'); // Mon 2 Nov 2026, 10:00 UTC
let app: TestApp;
let other: TestApp;
let teamId: string;

beforeAll(async () => {
  app = await startSequenceApp(clock, { role: 'web' });
  other = await startTestApp({ clock, role: 'web', db: app.db, slack: app.slack, resend: app.resend });
  teamId = app.slack.teamId;
});
afterAll(async () => {
  await other.stop();
  await app.stop();
});

const withWorker = <T>(work: () => Promise<T>) => runWithWorker(app, clock, work);

const liveSequence = (spec: SequenceSpec) => activeSequence(app, spec);

const enroll = (sequenceId: number, leadIds: number[]) => enrollIn(app, sequenceId, leadIds);

const sendJobsOf = async (sequenceId: number) =>
  (await app.db.sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM pgboss.job WHERE name = 'delivery.send-chunk' AND data ->> 'sourceKind' = 'sequence' AND (data ->> 'sourceId')::int = ${sequenceId}`)[0]!.count;

describe('two instances ticking together', () => {
  it('hands every due step over exactly once, each instance taking its own runs', async () => {
    const hello = await createTemplate(app, 'Pair hello');
    const { id, stepIds } = await liveSequence({ name: 'Pairs', steps: [{ template: hello }] });
    await app.db.sql`
      INSERT INTO leads (team_id, email, first_name) SELECT ${teamId}, 'pair-' || n || '@example.com', 'P' || n FROM generate_series(1, 3000) AS n`;
    const segment = await insertSegment(app.db.sql, { teamId, name: 'Pairs', rule: { type: 'field', field: 'email', op: 'starts_with', value: 'pair-' }, includeSuppressed: false, userId: MARKETER });
    expect(await enrollLeads(app.nurture.services, { teamId, sequenceId: id, who: { segmentId: segment!.id }, enrolledBy: MARKETER })).toMatchObject({ ok: true, enrolled: 3000 });

    const [first, second] = await Promise.all([tick(app), tick(other)]);
    expect(first.claimed).toBeGreaterThan(0);
    expect(second.claimed).toBeGreaterThan(0);
    expect(first.sent + second.sent).toBe(3000);
    const [ledger] = await app.db.sql<{ rows: number; leads: number; chunks: number }[]>`
      SELECT count(*)::int AS rows, count(DISTINCT lead_id)::int AS leads, count(DISTINCT chunk_id)::int AS chunks
      FROM email_sends WHERE source_kind = 'sequence' AND source_id = ${id} AND source_step = ${stepIds[0]!}`;
    expect(ledger).toEqual({ rows: 3000, leads: 3000, chunks: first.chunks + second.chunks });
    expect(await sendJobsOf(id)).toBe(ledger!.chunks);

    await withWorker(async () => {
      await app.resend.waitForEmails((email) => email.subject.startsWith('Pair hello'), { count: 3000, timeoutMs: 30_000 });
      await settled(app, id);
    });
    const recipients = app.resend.emails.filter((email) => email.subject.startsWith('Pair hello')).map((email) => email.to[0]);
    expect(recipients).toHaveLength(3000);
    expect(new Set(recipients).size).toBe(3000);
  });
});

describe('a worker crash in the middle of a tick', () => {
  it('loses nothing and sends nothing twice when the tick’s transaction fails after claiming, or cannot queue its jobs', async () => {
    clock.set('2026-11-03T10:00:00Z');
    const hello = await createTemplate(app, 'Crash hello');
    const { id } = await liveSequence({ name: 'Crashes', steps: [{ template: hello }] });
    const leads = await Promise.all([1, 2, 3].map((n) => addLead(app, { email: `crash-${n}@example.com` })));
    await enroll(id, leads.map((lead) => lead.id));
    const dueBefore = await Promise.all(leads.map(async (lead) => (await runOf(app, id, lead.id)).dueAt));

    // The runs were claimed and the ledger rows written when moving the runs fails (the process dies there).
    await app.db.sql`
      CREATE FUNCTION crash_mid_tick() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'worker died mid-tick'; END $$`;
    await app.db.sql`CREATE TRIGGER crash_mid_tick BEFORE UPDATE ON sequence_runs FOR EACH STATEMENT EXECUTE FUNCTION crash_mid_tick()`;
    await expect(tick(app)).rejects.toThrow(/worker died mid-tick/);
    await app.db.sql`DROP TRIGGER crash_mid_tick ON sequence_runs`;

    // The ledger and the runs were written, then queuing the send jobs failed.
    const failingEnqueue = Object.assign(async () => {
      throw new Error('queue connection lost');
    }, { many: async () => {} }) as unknown as Enqueue;
    await expect(tickSequences({ ...app.nurture.services, enqueue: failingEnqueue })).rejects.toThrow(/queue connection lost/);

    expect(await app.db.sql`SELECT 1 FROM email_sends WHERE source_kind = 'sequence' AND source_id = ${id}`).toHaveLength(0);
    expect(await sendJobsOf(id)).toBe(0);
    expect(await Promise.all(leads.map(async (lead) => (await runOf(app, id, lead.id)).dueAt))).toEqual(dueBefore);

    expect((await tick(app)).sent).toBe(3);
    await withWorker(async () => {
      for (const lead of leads) await waitForEmailsTo(app, lead.email, 1);
      await settled(app, id);
    });
    for (const lead of leads) expect(subjectsTo(app, lead.email)).toEqual(['Crash hello for you']);
    expect(await sendJobsOf(id)).toBe(1);
  });
});

describe('pause and resume', () => {
  it('holds everyone while paused; resuming sends each their next step within the window, one step each', async () => {
    await updateWorkspaceSettings(app.db.sql, teamId, { timeZone: 'UTC' });
    clock.set('2026-11-09T10:00:00Z'); // Monday
    const names = ['Pause one', 'Pause two', 'Pause three'];
    const [one, two, three] = await Promise.all(names.map((name) => createTemplate(app, name)));
    const { id } = await liveSequence({
      name: 'Paused',
      window: DAILY_WINDOW,
      steps: [{ template: one! }, { template: two!, delayMinutes: 24 * 60 }, { template: three!, delayMinutes: 24 * 60 }],
    });
    const leads = await Promise.all(['ada', 'ben'].map((name) => addLead(app, { email: `${name}@paused.example`, first_name: name })));
    await enroll(id, leads.map((lead) => lead.id));
    expect((await tick(app)).sent).toBe(2);
    await withWorker(() => settled(app, id));

    clock.set('2026-11-09T11:00:00Z');
    expect(await pauseSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER })).toMatchObject({ ok: true, sequence: { status: 'paused' } });
    expect(await runOf(app, id, leads[0]!.id)).toMatchObject({ stepPosition: 2, dueAt: null, sequenceStatus: 'paused' });
    clock.set('2026-11-11T12:00:00Z'); // both later steps would have been due by now
    expect((await tick(app)).claimed).toBe(0);

    clock.set('2026-11-11T20:00:00Z'); // resumed after the window closed: tomorrow 09:00, not now
    expect(await resumeSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER })).toMatchObject({ ok: true, sequence: { status: 'active' } });
    expect(await runOf(app, id, leads[0]!.id)).toMatchObject({ stepPosition: 2, dueAt: new Date('2026-11-12T09:00:00Z') });
    expect((await tick(app)).sent).toBe(0);

    clock.set('2026-11-12T09:00:00Z');
    expect((await tick(app)).sent).toBe(2);
    await withWorker(() => settled(app, id));
    clock.set('2026-11-13T08:59:00Z');
    expect((await tick(app)).sent).toBe(0);
    clock.set('2026-11-13T09:00:00Z');
    expect((await tick(app)).sent).toBe(2);
    await withWorker(() => settled(app, id));
    for (const lead of leads) expect(subjectsTo(app, lead.email)).toEqual(names.map((name) => `${name} for ${lead.email.split('@')[0]}`));
    const [ada] = leads;
    expect((await ledgerOf(app, id, ada!.id)).map((row) => row.sent_at?.toISOString())).toEqual(['2026-11-09T10:00:00.000Z', '2026-11-12T09:00:00.000Z', '2026-11-13T09:00:00.000Z']);
  });

  it('sends an email the pause held (handed over before, its job came while paused) once resumed', async () => {
    clock.set('2026-11-16T10:00:00Z');
    const held = await createTemplate(app, 'Held by pause');
    const { id } = await liveSequence({ name: 'Paused in flight', window: DAILY_WINDOW, steps: [{ template: held }] });
    const lead = await addLead(app, { email: 'inflight@paused.example' });
    await enroll(id, [lead.id]);
    expect((await tick(app)).sent).toBe(1);
    await pauseSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER });
    await withWorker(async () => {
      await waitFor(async () => (await app.db.sql`SELECT 1 FROM pgboss.job WHERE name = 'delivery.send-chunk' AND (data ->> 'sourceId')::int = ${id} AND state = 'completed'`).length === 1, {
        description: 'the send job to run (and hold its row)',
      });
      expect(await ledgerOf(app, id, lead.id)).toMatchObject([{ state: 'queued' }]);
      expect(app.resend.byRecipient(lead.email)).toHaveLength(0);

      clock.set('2026-11-16T10:05:00Z');
      await resumeSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER });
      await tick(app);
      await waitForEmailsTo(app, lead.email, 1);
      await settled(app, id);
    });
    expect(await ledgerOf(app, id, lead.id)).toMatchObject([{ state: 'accepted', sent_at: new Date('2026-11-16T10:05:00Z') }]);
  });
});

describe('a sequence the delivery pipeline cannot send', () => {
  it('pauses itself and tells its creator; resumed, the batch caught in the middle goes out once', async () => {
    clock.set('2026-12-07T10:00:00Z');
    const refused = await createTemplate(app, 'Refused once');
    const { id } = await liveSequence({ name: 'Self-paused', window: DAILY_WINDOW, steps: [{ template: refused }] });
    const lead = await addLead(app, { email: 'refused@paused.example' });
    await enroll(id, [lead.id]);
    expect((await tick(app)).sent).toBe(1);
    app.resend.failNext(1, { status: 422, name: 'validation_error', message: 'The `from` domain is not verified.' });
    await withWorker(async () => {
      const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === MARKETER && String(call.args.text).includes('Self-paused'));
      expect(dm.args.text).toBe(sequencePausedDmText('Self-paused', 'Resend refused the batch (validation_error, 422): The `from` domain is not verified.'));
    });
    expect(await runOf(app, id, lead.id)).toMatchObject({ sequenceStatus: 'paused' });
    expect(await ledgerOf(app, id, lead.id)).toMatchObject([{ state: 'sending' }]);
    const [paused] = await app.db.sql<{ actor_user_id: string; details: { reason: string } }[]>`
      SELECT actor_user_id, details FROM audit_log WHERE subject = ${String(id)} AND action = 'sequence.paused'`;
    expect(paused).toMatchObject({ actor_user_id: 'nurture', details: { reason: expect.stringContaining('validation_error') } });

    expect(await resumeSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER })).toMatchObject({ ok: true });
    await withWorker(async () => {
      await waitForEmailsTo(app, lead.email, 1);
      await settled(app, id);
    });
    expect(app.resend.byRecipient(lead.email)).toHaveLength(1);
    expect(await ledgerOf(app, id, lead.id)).toMatchObject([{ state: 'accepted' }]);
  });
});

describe('a sequence whose batches keep failing', () => {
  it('pauses itself after five failed batches in a row and tells its creator why; resumed with Resend healthy, everyone gets one email', async () => {
    clock.set('2026-12-14T10:00:00Z');
    const flaky = await createTemplate(app, 'Flaky hello');
    const { id } = await liveSequence({ name: 'Streaky', steps: [{ template: flaky }] });
    await app.db.sql`
      INSERT INTO leads (team_id, email, first_name) SELECT ${teamId}, 'streak-' || n || '@example.com', 'S' || n FROM generate_series(1, 500) AS n`;
    const segment = await insertSegment(app.db.sql, { teamId, name: 'Streaky', rule: { type: 'field', field: 'email', op: 'starts_with', value: 'streak-' }, includeSuppressed: false, userId: MARKETER });
    expect(await enrollLeads(app.nurture.services, { teamId, sequenceId: id, who: { segmentId: segment!.id }, enrolledBy: MARKETER })).toMatchObject({ ok: true, enrolled: 500 });
    expect(await tick(app)).toMatchObject({ sent: 500, chunks: 5 });
    const streakEmails = () => app.resend.emails.filter((email) => email.to[0]!.startsWith('streak-'));
    const pausedDms = () => app.slack.callsTo('chat.postMessage').filter((call) => call.args.channel === MARKETER && String(call.args.text).includes('"Streaky"'));

    // Every attempt of the five batches (three each, in parallel) gets a 500.
    app.resend.failNext(15, { status: 500 });
    await withWorker(async () => {
      const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === MARKETER && String(call.args.text).includes('"Streaky"'), { timeoutMs: 15_000 });
      expect(dm.args.text).toBe(
        sequencePausedDmText('Streaky', '5 batches in a row could not be sent. The last one: Resend did not answer (server-error 500): An unexpected error occurred.'),
      );
    });
    const someone = (await app.db.sql<{ id: number }[]>`SELECT id FROM leads WHERE team_id = ${teamId} AND email = 'streak-1@example.com'`)[0]!;
    expect(await runOf(app, id, someone.id)).toMatchObject({ sequenceStatus: 'paused' });
    expect(streakEmails()).toHaveLength(0);

    expect(replyText((await app.command(OWNER, 'sequence resume Streaky')).reply.body)).toBe(resumedText('Streaky', 500));
    // A resumed sequence starts a new streak: its first failed batch would not pause it again at once.
    expect((await app.db.sql<{ failure_streak: number }[]>`SELECT failure_streak FROM sequences WHERE id = ${id}`)[0]).toEqual({ failure_streak: 0 });
    await withWorker(async () => {
      await app.resend.waitForEmails((email) => email.to[0]!.startsWith('streak-'), { count: 500, timeoutMs: 20_000 });
      await settled(app, id);
    });
    const recipients = streakEmails().map((email) => email.to[0]);
    expect(recipients).toHaveLength(500);
    expect(new Set(recipients).size).toBe(500);
    expect(await runOf(app, id, someone.id)).toMatchObject({ sequenceStatus: 'active' });
    expect(pausedDms()).toHaveLength(1);
  });
});

describe('a nurture hold on a step already handed over', () => {
  it('keeps the queued email back until the hold ends', async () => {
    clock.set('2026-11-30T10:00:00Z');
    const queued = await createTemplate(app, 'Queued then held');
    const { id } = await liveSequence({ name: 'Held in flight', window: DAILY_WINDOW, steps: [{ template: queued }] });
    const lead = await addLead(app, { email: 'claimed@inflight.example' });
    await enroll(id, [lead.id]);
    await tick(app);
    expect(await ledgerOf(app, id, lead.id)).toMatchObject([{ state: 'queued' }]);
    await holdLeadNurture(app.nurture.services, { teamId, leadId: lead.id, until: new Date('2026-12-01T10:00:00Z'), byUserId: 'U0REP', reason: 'claimed' });
    expect(await ledgerOf(app, id, lead.id)).toMatchObject([{ state: 'deferred' }]);

    await withWorker(async () => {
      await waitFor(async () => (await app.db.sql`SELECT 1 FROM pgboss.job WHERE name = 'delivery.send-chunk' AND (data ->> 'sourceId')::int = ${id} AND state = 'completed'`).length === 1, {
        description: 'the send job to run and find nothing to send',
      });
      expect(app.resend.byRecipient(lead.email)).toHaveLength(0);
      clock.set('2026-12-01T10:00:00Z');
      await tick(app);
      await waitForEmailsTo(app, lead.email, 1);
      await settled(app, id);
    });
    expect(await ledgerOf(app, id, lead.id)).toMatchObject([{ state: 'accepted', sent_at: new Date('2026-12-01T10:00:00Z') }]);
  });
});
