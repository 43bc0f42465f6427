import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollLeads } from '../../src/modules/sequences/runs.ts';
import { activateSequence } from '../../src/modules/sequences/sequence-lifecycle.ts';
import { insertSend } from '../support/factories.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { DAILY_WINDOW, MARKETER, addLead, createSequence, createTemplate, ledgerOf, runOf, settled, startSequenceApp, subjectsTo, tick, waitForEmailsTo, withWorker } from './run-support.ts';

// A web instance (it ticks when told; send jobs run only while a worker instance is up), in a workspace
// that allows one marketing email per lead a day: the cap the workspace starts with.
const clock = new ManualClock('2026-11-23T10:00:00Z'); // Mon 23 Nov 2026, 10:00 UTC
let app: TestApp;
let teamId: string;

beforeAll(async () => {
  app = await startSequenceApp(clock, { role: 'web' }, { capPerDay: 1, capPerWeek: 3 });
  teamId = app.slack.teamId;
});
afterAll(() => app.stop());

describe('the frequency cap', () => {
  it('defers a step of a lead who had enough email for the day and sends it when the cap frees, within the window, once', async () => {
    const [capped, next] = await Promise.all(['Capped step', 'After the capped step'].map((name) => createTemplate(app, name)));
    const { id } = await createSequence(app, { name: 'Capped', window: DAILY_WINDOW, steps: [{ template: capped! }, { template: next!, delayMinutes: 2 * 24 * 60 }] });
    await activateSequence(app.nurture.services, { teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: false });
    const busy = await addLead(app, { email: 'busy@capped.example' });
    const free = await addLead(app, { email: 'free@capped.example' });
    await insertSend(app.db.sql, teamId, busy.id, { sourceId: 901, sentAt: new Date('2026-11-23T08:30:00Z') }); // a newsletter this morning
    await enrollLeads(app.nurture.services, { teamId, sequenceId: id, who: { leadIds: [busy.id, free.id] }, enrolledBy: MARKETER });

    expect((await tick(app)).sent).toBe(2);
    await withWorker(app, clock, async () => {
      await waitForEmailsTo(app, free.email, 1);
      await waitFor(async () => (await ledgerOf(app, id, busy.id))[0]?.state === 'deferred', { description: 'the step deferred by the cap' });
      // The cap frees at 08:30 tomorrow; the run comes due then.
      await waitFor(async () => (await runOf(app, id, busy.id)).dueAt?.toISOString() === '2026-11-24T08:30:00.000Z', { description: 'the run brought forward to the deferred step' });
    });
    expect(app.resend.byRecipient(busy.email)).toHaveLength(0);
    expect((await ledgerOf(app, id, busy.id))[0]?.reason).toMatch(/^frequency cap: 1 in the last 24 hours/);

    clock.set('2026-11-24T08:30:00Z'); // the cap has freed, but the window opens at 09:00
    expect((await tick(app)).claimed).toBe(1);
    expect((await ledgerOf(app, id, busy.id))[0]?.state).toBe('deferred');
    expect((await runOf(app, id, busy.id)).dueAt).toEqual(new Date('2026-11-24T09:00:00Z'));

    clock.set('2026-11-24T09:00:00Z');
    expect((await tick(app)).claimed).toBe(1);
    await withWorker(app, clock, async () => {
      await waitForEmailsTo(app, busy.email, 1);
      await settled(app, id);
    });
    expect(subjectsTo(app, busy.email)).toEqual(['Capped step for you']);
    expect(await ledgerOf(app, id, busy.id)).toMatchObject([{ state: 'accepted', sent_at: new Date('2026-11-24T09:00:00Z') }]);
    // The next step counts its delay from when the deferred one was handed over; the other lead's from the first tick.
    expect(await runOf(app, id, busy.id)).toMatchObject({ stepPosition: 2, dueAt: new Date('2026-11-26T09:00:00Z') });
    expect(await runOf(app, id, free.id)).toMatchObject({ stepPosition: 2, dueAt: new Date('2026-11-25T10:00:00Z') });
  });
});
