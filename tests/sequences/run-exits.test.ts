import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdLeadNurture, releaseLeadNurture } from '../../src/modules/sequences/lead-nurture-hold.ts';
import { enrollLeads, removeLead } from '../../src/modules/sequences/runs.ts';
import { activateSequence, archiveSequence } from '../../src/modules/sequences/sequence-lifecycle.ts';
import { sweepSegmentTriggers } from '../../src/modules/sequences/sweep-segment-triggers.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import type { RecordedEmail } from '../support/fake-resend.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { buildResendEvent, newWebhookSecret, postResendWebhook } from '../support/resend-webhooks.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { MARKETER, addLead, auditActions, createSequence, createTemplate, ledgerOf, runOf, settled, startSequenceApp, subjectsTo, tick, waitForEmailsTo } from './run-support.ts';

const secret = newWebhookSecret();
const clock = new ManualClock('2026-11-02T00:00:00Z');
let app: TestApp;
let api: ApiClient;
let teamId: string;

beforeAll(async () => {
  app = await startSequenceApp(clock, { env: { RESEND_WEBHOOK_SECRET: secret } });
  api = await apiClient(app);
  teamId = app.slack.teamId;
});
afterAll(() => app.stop());

const DAY = 24 * 60;

/** A live two-step sequence (the second a day later) with a goal event, and leads who got step 1. */
async function journey(name: string, people: string[]) {
  const first = await createTemplate(app, `${name} one`);
  const second = await createTemplate(app, `${name} two`);
  const { id, stepIds } = await createSequence(app, { name, goalEvent: 'demo_requested', steps: [{ template: first }, { template: second, delayMinutes: DAY }] });
  await activateSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: false });
  const leads = await Promise.all(people.map((person) => addLead(app, { email: `${person}@${name.toLowerCase().replaceAll(' ', '-')}.example`, first_name: person })));
  await enrollLeads(app.nurture.services, { teamId, sequenceId: id, who: { leadIds: leads.map((lead) => lead.id) }, enrolledBy: MARKETER });
  await tick(app);
  await settled(app, id);
  const firstEmails = new Map<string, RecordedEmail>();
  for (const [index, lead] of leads.entries()) firstEmails.set(people[index]!, (await waitForEmailsTo(app, lead.email, 1))[0]!);
  return { id, stepIds, leads: new Map(people.map((person, index) => [person, leads[index]!])), firstEmails, second: `${name} two` };
}

const webhook = (payload: object) => postResendWebhook(`${app.url}/webhooks/resend`, payload, { secret });

describe('exit rules', () => {
  it('ends runs when the lead unsubscribes, bounces, complains, reaches the goal, becomes a customer or is removed; the rest go on', async () => {
    clock.set('2026-11-02T00:00:00Z');
    const people = ['stays', 'unsubscribes', 'bounces', 'complains', 'converts', 'buys', 'removed'];
    const { id, leads, firstEmails, second } = await journey('Exits', people);
    const lead = (person: string) => leads.get(person)!;

    // One-click unsubscribe, as a mail client does it from the List-Unsubscribe header; Resend reports a complaint.
    const unsubscribeUrl = /<([^>]+)>/.exec(firstEmails.get('unsubscribes')!.headers!['List-Unsubscribe']!)![1]!.replace('https://nurture.test', app.url);
    expect((await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status).toBe(200);
    expect((await webhook(buildResendEvent('email.complained', firstEmails.get('complains')!))).status).toBe(200);
    await waitFor(async () => (await app.db.sql`SELECT status FROM leads WHERE id = ${lead('complains').id}`)[0]!.status === 'complained', { description: 'the complaint applied' });
    // Signals that do not come through the API are picked up by the sweep within minutes…
    await sweepSegmentTriggers(app.nurture.services);
    expect(await runOf(app, id, lead('unsubscribes').id)).toMatchObject({ status: 'exited', exitReason: 'unsubscribed' });
    expect(await runOf(app, id, lead('complains').id)).toMatchObject({ status: 'exited', exitReason: 'complained' });

    // The goal event arrives through the API: the run ends as the event is handled, not at the next step.
    clock.set('2026-11-02T03:00:00Z');
    expect((await api.post('/api/v1/events', { email: lead('converts').email, name: 'demo_requested', occurred_at: '2026-11-02T03:00:00Z' })).status).toBe(200);
    await waitFor(async () => (await runOf(app, id, lead('converts').id)).status === 'exited', { description: 'the goal to end the run' });
    expect(await runOf(app, id, lead('converts').id)).toMatchObject({ status: 'exited', exitReason: 'goal', dueAt: null });

    // A marketer takes a lead out by hand: at once.
    expect(await removeLead(app.nurture.services, { teamId, sequenceId: id, leadId: lead('removed').id, userId: MARKETER })).toBe(true);
    expect(await removeLead(app.nurture.services, { teamId, sequenceId: id, leadId: lead('removed').id, userId: MARKETER })).toBe(false);

    // …and the tick checks every rule before each step, whatever came first: a hard bounce and a CRM
    // marking a lead as a customer, just before the second step.
    expect((await webhook(buildResendEvent('email.bounced', firstEmails.get('bounces')!, { bounceType: 'hard' }))).status).toBe(200);
    await waitFor(async () => (await app.db.sql`SELECT status FROM leads WHERE id = ${lead('bounces').id}`)[0]!.status === 'bounced', { description: 'the bounce applied' });
    expect((await api.post('/api/v1/leads', { email: lead('buys').email, stage: 'customer' })).status).toBe(200);
    expect(await runOf(app, id, lead('buys').id)).toMatchObject({ status: 'active' });
    clock.set('2026-11-03T00:00:00Z');
    await tick(app);
    await settled(app, id);
    const outcomes = Object.fromEntries(await Promise.all(people.map(async (person) => [person, await runOf(app, id, lead(person).id)] as const)));
    expect(Object.fromEntries(Object.entries(outcomes).map(([person, run]) => [person, `${run.status} ${run.exitReason ?? ''}`.trim()]))).toEqual({
      stays: 'active',
      unsubscribes: 'exited unsubscribed',
      bounces: 'exited bounced',
      complains: 'exited complained',
      converts: 'exited goal',
      buys: 'exited customer',
      removed: 'exited removed',
    });
    for (const person of people) {
      expect(subjectsTo(app, lead(person).email), person).toEqual(person === 'stays' ? [`Exits one for ${person}`, `${second} for ${person}`] : [`Exits one for ${person}`]);
    }
    expect(await auditActions(app, id)).toEqual(['sequence.activated', 'sequence.enrolled', 'sequence.removed']);
  });

  it('counts a goal event only after enrollment', async () => {
    clock.set('2026-11-04T00:00:00Z');
    const lead = await addLead(app, { email: 'early@goal.example', first_name: 'Early' });
    expect((await api.post('/api/v1/events', { email: lead.email, name: 'demo_requested', occurred_at: '2026-11-03T23:00:00Z' })).status).toBe(200);
    const { id, leads } = await journey('Goal later', []);
    await enrollLeads(app.nurture.services, { teamId, sequenceId: id, who: { leadIds: [lead.id] }, enrolledBy: MARKETER });
    expect(leads.size).toBe(0);
    await tick(app);
    await settled(app, id);
    clock.set('2026-11-05T00:00:00Z');
    await tick(app);
    await waitForEmailsTo(app, lead.email, 2);
    expect(await runOf(app, id, lead.id)).toMatchObject({ status: 'active', stepPosition: null });
  });

  it('archiving ends every unfinished run; nothing more goes out', async () => {
    clock.set('2026-11-06T00:00:00Z');
    const { id, leads } = await journey('Archived', ['ann', 'bob']);
    const archived = await archiveSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER });
    expect(archived).toMatchObject({ ok: true, sequence: { status: 'archived' } });
    expect(await archiveSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER })).toMatchObject({ ok: false });
    clock.set('2026-11-07T00:00:00Z');
    expect((await tick(app)).sent).toBe(0);
    for (const lead of leads.values()) {
      expect(await runOf(app, id, lead.id)).toMatchObject({ status: 'exited', exitReason: 'archived', sequenceStatus: 'archived' });
      expect(app.resend.byRecipient(lead.email)).toHaveLength(1);
    }
  });
});

describe('a person on the lead (nurture hold)', () => {
  it('holds every step of a claimed lead until the hold ends, then sends the next one within the window; release ends it early', async () => {
    clock.set('2026-11-09T00:00:00Z');
    const { id, stepIds, leads } = await journey('Held', ['claimed', 'released']);
    const claimed = leads.get('claimed')!;
    const released = leads.get('released')!;
    const until = new Date('2026-11-13T00:00:00Z');
    await holdLeadNurture(app.nurture.services, { teamId, leadId: claimed.id, until, byUserId: 'U0REP', reason: 'claimed from a hot-lead alert' });
    await holdLeadNurture(app.nurture.services, { teamId, leadId: released.id, until, byUserId: 'U0REP', reason: 'claimed from a hot-lead alert' });

    clock.set('2026-11-10T00:00:00Z');
    expect((await tick(app)).sent).toBe(0);
    expect(await runOf(app, id, claimed.id)).toMatchObject({ status: 'active', stepPosition: 2, dueAt: until });

    clock.set('2026-11-11T00:00:00Z');
    expect(await releaseLeadNurture(app.nurture.services, { teamId, leadId: released.id, byUserId: 'U0REP' })).toBe(true);
    expect(await releaseLeadNurture(app.nurture.services, { teamId, leadId: released.id, byUserId: 'U0REP' })).toBe(false);
    await tick(app);
    await settled(app, id);
    expect(app.resend.byRecipient(released.email)).toHaveLength(2);
    expect(app.resend.byRecipient(claimed.email)).toHaveLength(1);

    clock.set('2026-11-13T00:00:00Z');
    await tick(app);
    await settled(app, id);
    expect(app.resend.byRecipient(claimed.email)).toHaveLength(2);
    expect((await ledgerOf(app, id, claimed.id)).map((row) => [row.step, row.sent_at?.toISOString()])).toEqual([
      [stepIds[0], '2026-11-09T00:00:00.000Z'],
      [stepIds[1], '2026-11-13T00:00:00.000Z'],
    ]);
    const holds = await app.db.sql<{ action: string }[]>`SELECT action FROM audit_log WHERE action LIKE 'lead.nurture%' ORDER BY id`;
    expect(holds.map((row) => row.action)).toEqual(['lead.nurture_held', 'lead.nurture_held', 'lead.nurture_released']);
  });
});
