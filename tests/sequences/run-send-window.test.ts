import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollLeads } from '../../src/modules/sequences/runs.ts';
import { activateSequence } from '../../src/modules/sequences/sequence-lifecycle.ts';
import { isWindowOpen, nextWindowOpening, zoneOf } from '../../src/modules/sequences/send-window.ts';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { TestApp } from '../support/test-app.ts';
import { DAILY_WINDOW, JP_WINDOW, MARKETER, addLead, createSequence, createTemplate, ledgerOf, runOf, settled, startSequenceApp, subjectsTo, tick, waitForEmailsTo } from './run-support.ts';

const at = (iso: string) => new Date(iso);
const opening = (from: string, zone: string, window = JP_WINDOW) => nextWindowOpening(at(from), window, zone).toISOString();

describe('send windows in the lead’s zone', () => {
  it('keeps a time inside the window and moves one outside it to the next opening', () => {
    // Wed 25 Nov 2026, 10:00 in Tokyo: open.
    expect(opening('2026-11-25T01:00:00Z', 'Asia/Tokyo')).toBe('2026-11-25T01:00:00.000Z');
    // 08:00 Tokyo → 09:00 the same day.
    expect(opening('2026-11-24T23:00:00Z', 'Asia/Tokyo')).toBe('2026-11-25T00:00:00.000Z');
    // 17:00 is the end (exclusive): the next day's 09:00.
    expect(opening('2026-11-25T08:00:00Z', 'Asia/Tokyo')).toBe('2026-11-26T00:00:00.000Z');
    // Friday evening → Monday morning.
    expect(opening('2026-11-27T09:30:00Z', 'Asia/Tokyo', { ...JP_WINDOW, holidays: null })).toBe('2026-11-30T00:00:00.000Z');
  });

  it('skips Japanese national holidays when the window uses the jp calendar', () => {
    // Fri 20 Nov 17:30 Tokyo; Mon 23 Nov is Labor Thanksgiving Day: Tuesday 09:00.
    expect(opening('2026-11-20T08:30:00Z', 'Asia/Tokyo')).toBe('2026-11-24T00:00:00.000Z');
    // Without the calendar, Monday.
    expect(opening('2026-11-20T08:30:00Z', 'Asia/Tokyo', { ...JP_WINDOW, holidays: null })).toBe('2026-11-23T00:00:00.000Z');
    // New Year's Day (Fri 1 Jan 2027) and the weekend, then Monday 4 Jan.
    expect(opening('2026-12-31T09:00:00Z', 'Asia/Tokyo')).toBe('2027-01-04T00:00:00.000Z');
    expect(isWindowOpen(at('2027-01-11T01:00:00Z'), JP_WINDOW, 'Asia/Tokyo')).toBe(false); // Coming of Age Day
    expect(isWindowOpen(at('2027-01-12T01:00:00Z'), JP_WINDOW, 'Asia/Tokyo')).toBe(true);
  });

  it('reads the window on the lead’s wall clock across a DST change', () => {
    // New York springs forward on Sun 8 Mar 2026: 09:00 is 14:00Z the day before, 13:00Z that day.
    expect(opening('2026-03-07T23:00:00Z', 'America/New_York', DAILY_WINDOW)).toBe('2026-03-08T13:00:00.000Z');
    expect(opening('2026-03-06T23:00:00Z', 'America/New_York', DAILY_WINDOW)).toBe('2026-03-07T14:00:00.000Z');
    // A window starting at a time the clocks skip opens right after the gap (03:00 EDT).
    expect(opening('2026-03-08T05:00:00Z', 'America/New_York', { ...DAILY_WINDOW, start: '02:30' })).toBe('2026-03-08T07:00:00.000Z');
    // Berlin falls back on Sun 25 Oct 2026: 09:00 is 08:00Z that day.
    expect(opening('2026-10-24T20:00:00Z', 'Europe/Berlin', DAILY_WINDOW)).toBe('2026-10-25T08:00:00.000Z');
  });

  it('reads a lead without a (valid) zone in the workspace’s zone', () => {
    expect(zoneOf('America/New_York', 'Asia/Tokyo')).toBe('America/New_York');
    expect(zoneOf(null, 'Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(zoneOf('Mars/Olympus', 'Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(zoneOf(null, 'Nowhere/Special')).toBe('UTC');
  });
});

describe('a journey on the controlled clock', () => {
  const clock = new ManualClock('2026-11-20T07:30:00Z'); // Fri 20 Nov 2026, 16:30 in Tokyo
  let app: TestApp;
  beforeAll(async () => {
    app = await startSequenceApp(clock, {}, { timeZone: 'Asia/Tokyo' });
  });
  afterAll(() => app.stop());

  it('moves a step due after the window closes past the weekend and a holiday, and sends it when the window opens', async () => {
    const welcome = await createTemplate(app, 'Welcome');
    const followUp = await createTemplate(app, 'Follow-up');
    const { id, stepIds } = await createSequence(app, {
      name: 'Holiday journey',
      window: JP_WINDOW,
      steps: [{ template: welcome }, { template: followUp, delayMinutes: 60 }],
    });
    expect(await activateSequence(app.nurture.services, { teamId: app.slack.teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: false })).toMatchObject({ ok: true });
    const lead = await addLead(app, { first_name: 'Aiko' });
    expect(await enrollLeads(app.nurture.services, { teamId: app.slack.teamId, sequenceId: id, who: { leadIds: [lead.id] }, enrolledBy: MARKETER })).toEqual({
      ok: true,
      enrolled: 1,
      alreadyIn: 0,
      ineligible: 0,
    });

    await tick(app);
    expect((await waitForEmailsTo(app, lead.email, 1)).map((email) => email.subject)).toEqual(['Welcome for Aiko']);
    await settled(app, id);
    // Due an hour later (17:30 on Friday): the window is closed; Monday is Labor Thanksgiving Day.
    expect(await runOf(app, id, lead.id)).toMatchObject({ status: 'active', stepPosition: 2, dueAt: at('2026-11-24T00:00:00Z') });

    for (const moment of ['2026-11-20T08:31:00Z', '2026-11-23T01:00:00Z', '2026-11-23T23:59:00Z']) {
      clock.set(moment);
      expect((await tick(app)).sent).toBe(0);
    }
    expect(subjectsTo(app, lead.email)).toEqual(['Welcome for Aiko']);

    clock.set('2026-11-24T00:00:00Z');
    await tick(app);
    await waitForEmailsTo(app, lead.email, 2);
    expect(subjectsTo(app, lead.email)).toEqual(['Welcome for Aiko', 'Follow-up for Aiko']);
    await settled(app, id);
    const sentAt = (await ledgerOf(app, id, lead.id)).map((row) => [row.step, row.sent_at?.toISOString()]);
    expect(sentAt).toEqual([
      [stepIds[0], '2026-11-20T07:30:00.000Z'],
      [stepIds[1], '2026-11-24T00:00:00.000Z'],
    ]);
    // It completes once its last email left.
    clock.set('2026-11-24T00:01:00Z');
    await tick(app);
    expect(await runOf(app, id, lead.id)).toMatchObject({ status: 'completed', stepPosition: null, dueAt: null });
  });

  it('sends at nine on the lead’s own wall clock across a DST change', async () => {
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { timeZone: 'Asia/Tokyo' });
    const hello = await createTemplate(app, 'Hello DST');
    const next = await createTemplate(app, 'Next morning');
    const { id } = await createSequence(app, {
      name: 'DST journey',
      window: DAILY_WINDOW,
      steps: [{ template: hello }, { template: next, delayMinutes: 20 * 60 }],
    });
    clock.set('2026-03-07T15:00:00Z'); // Sat 7 Mar 2026, 10:00 EST
    await activateSequence(app.nurture.services, { teamId: app.slack.teamId, sequenceId: id, userId: MARKETER, enrollCurrentMembers: false });
    const lead = await addLead(app, { first_name: 'Nate', time_zone: 'America/New_York' });
    await enrollLeads(app.nurture.services, { teamId: app.slack.teamId, sequenceId: id, who: { leadIds: [lead.id] }, enrolledBy: MARKETER });
    await tick(app);
    await waitForEmailsTo(app, lead.email, 1);
    await settled(app, id);

    // 20 hours later is 07:00 EDT on Sunday (the clocks went forward at 02:00): 09:00 EDT is 13:00Z, not 14:00Z.
    expect((await runOf(app, id, lead.id)).dueAt).toEqual(at('2026-03-08T13:00:00Z'));
    clock.set('2026-03-08T12:59:00Z');
    expect((await tick(app)).sent).toBe(0);
    expect(subjectsTo(app, lead.email)).toEqual(['Hello DST for Nate']);
    clock.set('2026-03-08T13:00:00Z');
    await tick(app);
    await waitForEmailsTo(app, lead.email, 2);
    expect(subjectsTo(app, lead.email)).toEqual(['Hello DST for Nate', 'Next morning for Nate']);
  });
});
