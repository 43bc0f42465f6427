import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { stepsChanged } from '../../src/modules/sequences/sequence-lifecycle.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { newWebhookSecret } from '../support/resend-webhooks.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { activeSequence, addLead, addStep, createTemplate, enrollIn, ledgerOf, runOf, settled, startSequenceApp, subjectsTo, tick, waitForEmailsTo, type SequenceSpec } from './run-support.ts';

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

const minutes = (count: number) => count;
const hours = (count: number) => count * 60;
const days = (count: number) => count * 24 * 60;

const liveSequence = (spec: SequenceSpec) => activeSequence(app, spec);

const enroll = (sequenceId: number, leadIds: number[]) => enrollIn(app, sequenceId, leadIds);

/** Moves the clock and ticks; resolves with what the tick handed to delivery once it has left. */
async function tickAt(iso: string, sequenceId: number) {
  clock.set(iso);
  const summary = await tick(app);
  await settled(app, sequenceId);
  return summary;
}

describe('delays', () => {
  it('counts "after enrollment" from enrollment and "after the previous step" from when that step was handed over', async () => {
    const [a, b, c] = await Promise.all(['Day 0', 'Day 3', 'Day 7'].map((name) => createTemplate(app, name)));
    clock.set('2026-11-02T00:00:00Z');
    const { id } = await liveSequence({
      name: 'Delays',
      steps: [{ template: a! }, { template: b!, delayMinutes: days(3), delayFrom: 'enrollment' }, { template: c!, delayMinutes: days(4), delayFrom: 'previous' }],
    });
    const lead = await addLead(app, { first_name: 'Dai' });
    await enroll(id, [lead.id]);
    await tickAt('2026-11-02T00:00:00Z', id);
    expect(subjectsTo(app, lead.email)).toEqual(['Day 0 for Dai']);

    // The tick ran late for step 2 (an hour): step 3 counts from when step 2 was handed over.
    await tickAt('2026-11-05T00:59:00Z', id);
    expect(subjectsTo(app, lead.email)).toEqual(['Day 0 for Dai', 'Day 3 for Dai']);
    expect((await runOf(app, id, lead.id)).dueAt).toEqual(new Date('2026-11-09T00:59:00Z'));
    expect((await tickAt('2026-11-09T00:58:00Z', id)).sent).toBe(0);
    await tickAt('2026-11-09T00:59:00Z', id);
    expect(subjectsTo(app, lead.email)).toEqual(['Day 0 for Dai', 'Day 3 for Dai', 'Day 7 for Dai']);
  });
});

describe('conditions', () => {
  it('skips a step whose condition does not hold (recorded in the ledger), and the run moves on', async () => {
    const welcome = await createTemplate(app, 'Welcome', 'Hello {{ first_name | default: "there" }}, read [the guide](https://kojo.example/guide).');
    const [nudge, caseStudy, pricing] = await Promise.all(['Nudge', 'Case study', 'Pricing tour'].map((name) => createTemplate(app, name)));
    clock.set('2026-11-10T00:00:00Z');
    const { id, stepIds } = await liveSequence({
      name: 'Conditions',
      steps: [
        { template: welcome! },
        { template: nudge!, delayMinutes: hours(1), condition: { kind: 'previous_not_clicked' } },
        { template: caseStudy!, delayMinutes: hours(1), condition: { kind: 'stage', stages: ['consideration'] } },
        { template: pricing!, delayMinutes: hours(1), condition: { kind: 'not_visited', url: '/pricing*', days: 30 } },
      ],
    });
    const clicker = await addLead(app, { first_name: 'Clara', stage: 'consideration' });
    const visitor = await addLead(app, { first_name: 'Vik', stage: 'awareness' });
    await enroll(id, [clicker.id, visitor.id]);
    await tickAt('2026-11-10T00:00:00Z', id);

    // Clara clicks the welcome email's link (through Nurture's click tracking); Vik looks at the pricing page.
    const [welcomeToClara] = await waitForEmailsTo(app, clicker.email, 1);
    clock.set('2026-11-10T00:20:00Z');
    const guide = new URL(/href="([^"]*\/t\/c\/[^"]*)"/.exec(welcomeToClara!.html!)![1]!);
    const click = await fetch(`${app.url}${guide.pathname}`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toMatch(/^https:\/\/kojo\.example\/guide\?nv=/);
    await waitFor(async () => (await app.db.sql`SELECT 1 FROM email_sends WHERE lead_id = ${clicker.id} AND clicked_at IS NOT NULL`).length === 1, { description: 'the click in the ledger' });
    const visit = await api.post('/api/v1/events', { email: visitor.email, name: 'page_view', properties: { url: 'https://kojo.example/pricing/enterprise' }, occurred_at: '2026-11-10T00:30:00Z' });
    expect(visit.status).toBe(200);

    await tickAt('2026-11-10T01:00:00Z', id);
    await tickAt('2026-11-10T02:00:00Z', id);
    await tickAt('2026-11-10T03:00:00Z', id);
    expect(subjectsTo(app, clicker.email)).toEqual(['Welcome for Clara', 'Case study for Clara', 'Pricing tour for Clara']);
    expect(subjectsTo(app, visitor.email)).toEqual(['Welcome for Vik', 'Nudge for Vik']);

    expect((await ledgerOf(app, id, clicker.id)).map(({ step, state, reason }) => [step, state, reason])).toEqual([
      [stepIds[0], 'accepted', null],
      [stepIds[1], 'cancelled', 'skipped: the previous email was clicked'],
      [stepIds[2], 'accepted', null],
      [stepIds[3], 'accepted', null],
    ]);
    expect((await ledgerOf(app, id, visitor.id)).map(({ step, state, reason }) => [step, state, reason])).toEqual([
      [stepIds[0], 'accepted', null],
      [stepIds[1], 'accepted', null],
      [stepIds[2], 'cancelled', "skipped: the lead's stage is awareness, not consideration"],
      [stepIds[3], 'cancelled', 'skipped: visited /pricing* in the last 30 days'],
    ]);
    // Vik's last step was skipped and the email before it had left: the run is complete.
    expect(await runOf(app, id, visitor.id)).toMatchObject({ status: 'completed' });
  });
});

describe('editing an active sequence', () => {
  it('moves runs off a removed step, never re-sends a step someone got, and does not send a step added before where they are', async () => {
    const [a, b, c, d] = await Promise.all(['Edit A', 'Edit B', 'Edit C', 'Edit D'].map((name) => createTemplate(app, name)));
    clock.set('2026-11-12T00:00:00Z');
    const { id, stepIds } = await liveSequence({
      name: 'Edited',
      steps: [{ template: a! }, { template: b!, delayMinutes: days(1) }, { template: c!, delayMinutes: days(1) }],
    });
    const ahead = await addLead(app, { first_name: 'Ahead' });
    await enroll(id, [ahead.id]);
    await tickAt('2026-11-12T00:00:00Z', id);
    await tickAt('2026-11-13T00:00:00Z', id);
    const behind = await addLead(app, { first_name: 'Behind' });
    await enroll(id, [behind.id]);
    await tickAt('2026-11-13T00:00:00Z', id);
    expect(subjectsTo(app, ahead.email)).toEqual(['Edit A for Ahead', 'Edit B for Ahead']);
    expect(subjectsTo(app, behind.email)).toEqual(['Edit A for Behind']);

    // The author removes B (Behind waits for it), moves C up, and puts a new first step D before A.
    await app.db.sql.begin(async (tx) => {
      await tx`UPDATE sequence_steps SET removed_at = now() WHERE id = ${stepIds[1]!}`;
      await tx`UPDATE sequence_steps SET position = position + 10 WHERE sequence_id = ${id} AND removed_at IS NULL`;
      await tx`UPDATE sequence_steps SET position = 2 WHERE id = ${stepIds[0]!}`;
      await tx`UPDATE sequence_steps SET position = 3 WHERE id = ${stepIds[2]!}`;
    });
    await addStep(app, id, 1, { template: d! });
    await stepsChanged(app.nurture.services, { teamId, sequenceId: id });
    expect(await runOf(app, id, behind.id)).toMatchObject({ stepPosition: 3, stepCount: 3 });
    expect(await runOf(app, id, ahead.id)).toMatchObject({ stepPosition: 3 });

    await tickAt('2026-11-14T00:00:00Z', id);
    await tickAt('2026-11-15T00:00:00Z', id);
    await tickAt('2026-11-16T00:00:00Z', id);
    expect(subjectsTo(app, ahead.email)).toEqual(['Edit A for Ahead', 'Edit B for Ahead', 'Edit C for Ahead']);
    expect(subjectsTo(app, behind.email)).toEqual(['Edit A for Behind', 'Edit C for Behind']);
    expect(await runOf(app, id, ahead.id)).toMatchObject({ status: 'completed' });
    expect(await runOf(app, id, behind.id)).toMatchObject({ status: 'completed' });
  });

  it('sends a step its current template: an edit reaches the people who have not had it yet', async () => {
    const first = await createTemplate(app, 'Live first');
    const second = await createTemplate(app, 'Live second');
    clock.set('2026-11-20T00:00:00Z');
    const { id } = await liveSequence({ name: 'Template edit', steps: [{ template: first }, { template: second, delayMinutes: minutes(30) }] });
    const lead = await addLead(app, { first_name: 'Tomo' });
    await enroll(id, [lead.id]);
    await tickAt('2026-11-20T00:00:00Z', id);
    await app.db.sql`UPDATE templates SET subject = 'Revised second for {{ first_name }}', updated_at = now() WHERE id = ${second}`;
    await tickAt('2026-11-20T00:30:00Z', id);
    expect(subjectsTo(app, lead.email)).toEqual(['Live first for Tomo', 'Revised second for Tomo']);
  });
});

describe('who the emails are from', () => {
  it("signs with the sequence's sender and reply-to, else the workspace's name, else EMAIL_FROM's: the From line and the footer agree", async () => {
    const template = await createTemplate(app, 'Signed');
    clock.set('2026-11-20T03:00:00Z');
    const own = await liveSequence({ name: 'Signed by Mari', senderName: 'Mari at Kojo', replyTo: 'mari@kojo.example', steps: [{ template }] });
    const plain = await liveSequence({ name: 'Signed by nobody', steps: [{ template }] });
    const [first, second] = [await addLead(app), await addLead(app)];
    await enroll(own.id, [first!.id]);
    await enroll(plain.id, [second!.id]);
    // The workspace has no sender name of its own by the time the steps go out.
    await updateWorkspaceSettings(app.db.sql, teamId, { senderName: null });
    await tick(app);
    const [fromMari] = await waitForEmailsTo(app, first!.email, 1);
    const [fromNobody] = await waitForEmailsTo(app, second!.email, 1);
    await updateWorkspaceSettings(app.db.sql, teamId, { senderName: 'Kojo Marketing' });

    expect(fromMari).toMatchObject({ from: 'Mari at Kojo <news@test.example>', replyTo: ['mari@kojo.example'] });
    expect(fromMari!.text).toContain('Mari at Kojo');
    expect(fromNobody!.from).toBe('Nurture Test <news@test.example>');
    expect(fromNobody!.replyTo).toBeUndefined();
    expect(fromNobody!.text).toContain('Nurture Test');
  });
});
