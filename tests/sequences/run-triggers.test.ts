import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollLeads, enrollRefusedText, leadRuns } from '../../src/modules/sequences/runs.ts';
import { activateSequence, pauseSequence } from '../../src/modules/sequences/sequence-lifecycle.ts';
import { sweepSegmentTriggers } from '../../src/modules/sequences/sweep-segment-triggers.ts';
import { insertSegment } from '../../src/modules/segments/queries.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { MARKETER, OWNER, addLead, auditActions, createSequence, createTemplate, runOf, settled, startSequenceApp, subjectsTo, tick, waitForEmailsTo } from './run-support.ts';

const clock = new ManualClock('2026-11-16T01:00:00Z');
let app: TestApp;
let api: ApiClient;
let teamId: string;

beforeAll(async () => {
  app = await startSequenceApp(clock);
  api = await apiClient(app);
  teamId = app.slack.teamId;
});
afterAll(() => app.stop());

/** A segment of the leads whose address starts with `prefix-`. */
async function segmentOf(prefix: string): Promise<number> {
  const row = await insertSegment(app.db.sql, { teamId, name: `Prefix ${prefix}`, rule: { type: 'field', field: 'email', op: 'starts_with', value: `${prefix}-` }, includeSuppressed: false, userId: MARKETER });
  return row!.id;
}

/** The sweep of one sequence (the cron sweeps them all, then ends runs of leads who can no longer be nurtured). */
const sweep = (sequenceId: number) => sweepSegmentTriggers(app.nurture.services, { teamId, sequenceId });

const runsIn = async (sequenceId: number) =>
  (await app.db.sql<{ email: string; status: string; exit_reason: string | null }[]>`
    SELECT l.email, r.status, r.exit_reason FROM sequence_runs r JOIN leads l ON l.id = r.lead_id WHERE r.sequence_id = ${sequenceId} ORDER BY l.email, r.id`).map(
    (row) => `${row.email} ${row.status}${row.exit_reason ? ` ${row.exit_reason}` : ''}`,
  );

describe('segment entry', () => {
  it('enrolls the members at activation when asked to, and people who enter the segment later at the sweep, once', async () => {
    const welcome = await createTemplate(app, 'Segment welcome');
    const segmentId = await segmentOf('seg');
    const members = [await addLead(app, { email: 'seg-1@example.com' }), await addLead(app, { email: 'seg-2@example.com' })];
    await addLead(app, { email: 'seg-gone@example.com', status: 'unsubscribed' });
    await addLead(app, { email: 'other-1@example.com' });
    const { id } = await createSequence(app, { name: 'Segment now', trigger: { kind: 'segment', segmentId }, steps: [{ template: welcome }, { template: welcome, delayMinutes: 60 * 24 * 30 }] });

    const activated = await activateSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: true });
    expect(activated).toMatchObject({ ok: true, enrolled: 2 });
    await tick(app);
    await settled(app, id);
    for (const member of members) expect(subjectsTo(app, member.email)).toEqual(['Segment welcome for you']);

    const newcomer = await addLead(app, { email: 'seg-3@example.com', first_name: 'Nina' });
    expect(await sweep(id)).toMatchObject({ enrolled: 1 });
    expect(await sweepSegmentTriggers(app.nurture.services)).toMatchObject({ enrolled: 0 });
    await tick(app);
    await settled(app, id);
    expect(subjectsTo(app, newcomer.email)).toEqual(['Segment welcome for Nina']);
    expect(await runsIn(id)).toEqual(['seg-1@example.com active', 'seg-2@example.com active', 'seg-3@example.com active']);
    expect(await auditActions(app, id)).toEqual(['sequence.enrolled', 'sequence.activated', 'sequence.enrolled']);
  });

  it('leaves today’s members out when asked to; someone who leaves and enters again is new', async () => {
    const hello = await createTemplate(app, 'Later hello');
    const segmentId = await segmentOf('late');
    const old = await addLead(app, { email: 'late-1@example.com' });
    const { id } = await createSequence(app, { name: 'Segment later', trigger: { kind: 'segment', segmentId }, steps: [{ template: hello }] });
    expect(await activateSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: false })).toEqual(expect.objectContaining({ ok: true }));

    const fresh = await addLead(app, { email: 'late-2@example.com' });
    expect(await sweep(id)).toMatchObject({ enrolled: 1 });
    await tick(app);
    await settled(app, id);
    expect(subjectsTo(app, fresh.email)).toEqual(['Later hello for you']);
    expect(subjectsTo(app, old.email)).toEqual([]);
    // The lead card does not show the bookkeeping of who was a member at activation.
    expect(await leadRuns(app.db.sql, teamId, old.id)).toEqual([]);

    // She leaves the segment (a sweep notices), then comes back: now she entered.
    await app.db.sql`UPDATE leads SET email = 'moved-late-1@example.com' WHERE id = ${old.id}`;
    expect(await sweep(id)).toMatchObject({ enrolled: 0 });
    await app.db.sql`UPDATE leads SET email = 'late-1@example.com' WHERE id = ${old.id}`;
    expect(await sweep(id)).toMatchObject({ enrolled: 1 });
    await tick(app);
    await settled(app, id);
    expect(subjectsTo(app, old.email)).toEqual(['Later hello for you']);
  });

  it('enrolls a member again N days after their run ended, when the re-enrollment policy says so', async () => {
    const again = await createTemplate(app, 'Again');
    const segmentId = await segmentOf('again');
    const lead = await addLead(app, { email: 'again-1@example.com' });
    clock.set('2026-11-16T01:00:00Z');
    const { id } = await createSequence(app, { name: 'Every 10 days', trigger: { kind: 'segment', segmentId }, reenrollAfterDays: 10, steps: [{ template: again }] });
    await activateSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: true });
    await tick(app);
    await settled(app, id);
    clock.set('2026-11-16T01:02:00Z');
    await tick(app);
    expect(await runOf(app, id, lead.id)).toMatchObject({ status: 'completed', endedAt: new Date('2026-11-16T01:02:00Z') });

    clock.set('2026-11-26T01:01:00Z');
    expect(await sweep(id)).toMatchObject({ enrolled: 0 });
    clock.set('2026-11-26T01:03:00Z');
    expect(await sweep(id)).toMatchObject({ enrolled: 1 });
    await tick(app);
    await settled(app, id);
    expect(subjectsTo(app, lead.email)).toEqual(['Again for you', 'Again for you']);
  });
});

describe('event triggers', () => {
  it('enrolls the lead of an event from the API whose name and properties match, and sends its first step at once', async () => {
    clock.set('2026-11-26T02:00:00Z');
    const thanks = await createTemplate(app, 'Thanks for downloading');
    const { id } = await createSequence(app, {
      name: 'Whitepaper X',
      trigger: { kind: 'event', name: 'resource_download', properties: { asset: 'whitepaper-x' } },
      steps: [{ template: thanks }],
    });
    await activateSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: false });

    const response = await api.post('/api/v1/events', [
      { email: 'ken@factory.example', name: 'resource_download', properties: { asset: 'whitepaper-x', format: 'pdf' }, lead: { first_name: 'Ken' }, occurred_at: '2026-11-26T02:00:00Z' },
      { email: 'yui@factory.example', name: 'resource_download', properties: { asset: 'whitepaper-y' }, occurred_at: '2026-11-26T02:00:00Z' },
      { email: 'sho@factory.example', name: 'webinar_attended', properties: { asset: 'whitepaper-x' }, occurred_at: '2026-11-26T02:00:00Z' },
      // Before the sequence went live: a replayed history does not enroll anyone.
      { email: 'old@factory.example', name: 'resource_download', properties: { asset: 'whitepaper-x' }, occurred_at: '2026-11-01T02:00:00Z' },
    ]);
    expect(response.json).toMatchObject({ recorded: 4, failed: 0 });

    // The queue enrolls Ken and the tick it asks for sends the thank-you, with nobody calling either.
    const [email] = await waitForEmailsTo(app, 'ken@factory.example', 1);
    expect(email!.subject).toBe('Thanks for downloading for Ken');
    expect(await runsIn(id)).toEqual(['ken@factory.example active']);

    // The same download again while the run is open enrolls nobody twice.
    await api.post('/api/v1/events', { email: 'ken@factory.example', name: 'resource_download', properties: { asset: 'whitepaper-x' }, occurred_at: '2026-11-26T02:01:00Z' });
    await waitFor(async () => (await app.db.sql`SELECT 1 FROM pgboss.job WHERE name = 'sequences.react-to-events' AND state = 'completed'`).length >= 2, { description: 'both event batches handled' });
    expect(await runsIn(id)).toEqual(['ken@factory.example active']);
    expect(subjectsTo(app, 'yui@factory.example')).toEqual([]);
  });
});

describe('manual enrollment', () => {
  it('`/nurture sequence enroll` puts a lead in and its first step goes out; `remove` takes them out', async () => {
    clock.set('2026-11-26T04:00:00Z');
    const first = await createTemplate(app, 'Onboarding first');
    const second = await createTemplate(app, 'Onboarding second');
    const { id } = await createSequence(app, { name: 'Onboarding', steps: [{ template: first }, { template: second, delayMinutes: 60 }] });
    await activateSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: false });
    const lead = await addLead(app, { email: 'slack@enrolled.example', first_name: 'Sora' });

    const enrolled = await app.command(OWNER, 'sequence enroll Onboarding slack@enrolled.example');
    expect(JSON.stringify(enrolled.reply.body)).toContain('Onboarding');
    // Nobody ticks by hand: enrolling asked for a tick, which the app's worker ran.
    expect((await waitForEmailsTo(app, lead.email, 1)).map((email) => email.subject)).toEqual(['Onboarding first for Sora']);
    expect(await runOf(app, id, lead.id)).toMatchObject({ status: 'active', stepPosition: 2 });

    await app.command(OWNER, 'sequence remove Onboarding slack@enrolled.example');
    expect(await runOf(app, id, lead.id)).toMatchObject({ status: 'exited', exitReason: 'removed' });
    clock.set('2026-11-26T05:00:00Z');
    await tick(app);
    expect(subjectsTo(app, lead.email)).toEqual(['Onboarding first for Sora']);
  });

  it('counts who was enrolled, who already was, and who is not eligible', async () => {
    const manual = await createTemplate(app, 'Manual');
    const { id } = await createSequence(app, { name: 'By hand', steps: [{ template: manual }, { template: manual, delayMinutes: 60 * 24 }] });
    const enroll = (leadIds: number[]) => enrollLeads(app.nurture.services, { teamId, sequenceId: id, who: { leadIds }, enrolledBy: MARKETER });

    const ok = await addLead(app);
    expect(await enroll([ok.id])).toEqual({ ok: false, reason: enrollRefusedText.notRunning('By hand', 'draft') });
    await activateSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: false });
    const unsubscribed = await addLead(app, { status: 'unsubscribed' });
    const customer = await addLead(app, { stage: 'customer' });
    const held = await addLead(app);
    await app.db.sql`INSERT INTO lead_nurture_holds (team_id, lead_id, held_until, held_by, reason) VALUES (${teamId}, ${held.id}, ${new Date('2026-12-31T00:00:00Z')}, 'U0REP', 'claimed')`;

    expect(await enroll([ok.id, unsubscribed.id, customer.id, held.id])).toEqual({ ok: true, enrolled: 2, alreadyIn: 0, ineligible: 2 });
    expect(await enroll([ok.id])).toEqual({ ok: true, enrolled: 0, alreadyIn: 1, ineligible: 0 });
    // By segment: everyone in it counted (the suppressed ones as not eligible).
    const segmentId = await segmentOf('hand');
    await addLead(app, { email: 'hand-1@example.com' });
    await addLead(app, { email: 'hand-2@example.com', status: 'bounced' });
    expect(await enrollLeads(app.nurture.services, { teamId, sequenceId: id, who: { segmentId }, enrolledBy: MARKETER })).toEqual({ ok: true, enrolled: 1, alreadyIn: 0, ineligible: 1 });
    expect(await auditActions(app, id)).toEqual(['sequence.activated', 'sequence.enrolled', 'sequence.enrolled', 'sequence.enrolled']);

    // A paused sequence takes people in; they wait for resume.
    expect(await pauseSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER })).toMatchObject({ ok: true });
    const waiting = await addLead(app);
    expect(await enroll([waiting.id])).toEqual({ ok: true, enrolled: 1, alreadyIn: 0, ineligible: 0 });
    expect(await runOf(app, id, waiting.id)).toMatchObject({ status: 'active', stepPosition: 1, dueAt: null, sequenceStatus: 'paused' });
  });
});
