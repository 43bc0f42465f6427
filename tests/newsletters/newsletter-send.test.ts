import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { pausedDmText } from '../../src/modules/newsletters/newsletter-source.ts';
import { audienceGrewText } from '../../src/modules/newsletters/start-newsletter.ts';
import { startNewsletter } from '../../src/modules/newsletters/start-newsletter.ts';
import { holdLeadNurture } from '../../src/modules/sequences/lead-nurture-hold.ts';
import type { Enqueue } from '../../src/queue/queue-system.ts';
import { ActionIds } from '../../src/slack/ids.ts';
import { insertLead, insertSend } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  MARKETER,
  REP,
  SECOND_MARKETER,
  auditActions,
  cardButtons,
  cardText,
  clickCard,
  createSegment,
  createTemplate,
  dayInZone,
  findRow,
  insertManyLeads,
  planNewsletter,
  setUpWorkspace,
  waitForCard,
} from './newsletter-support.ts';

let app: TestApp;
let templateId: number;

beforeAll(async () => {
  app = await startTestApp();
  await setUpWorkspace(app);
  templateId = await createTemplate(app);
});
afterAll(() => app.stop());

/** A segment of the leads whose address starts with `prefix-`. */
const segmentOf = (prefix: string) => createSegment(app, `Prefix ${prefix}`, { type: 'field', field: 'email', op: 'starts_with', value: `${prefix}-` });

const ledger = async (newsletterId: number) =>
  Object.fromEntries(
    (await app.db.sql<{ state: string; n: number }[]>`
      SELECT state, count(*)::int AS n FROM email_sends WHERE source_kind = 'newsletter' AND source_id = ${newsletterId} GROUP BY state`).map((row) => [row.state, row.n]),
  );

const emailsTo = (prefix: string) => app.resend.emails.filter((email) => email.to[0]!.startsWith(`${prefix}-`));

const expectOneEachAtMost = (prefix: string) => {
  const recipients = emailsTo(prefix).map((email) => email.to[0]);
  expect(new Set(recipients).size).toBe(recipients.length);
};

/** The audit trail of a newsletter that paused itself and was resumed by the second marketer. */
const PAUSED_BY_NURTURE_THEN_RESUMED = [
  `newsletter.requested by ${MARKETER}`,
  `newsletter.approved by ${SECOND_MARKETER}`,
  'newsletter.started by nurture',
  'newsletter.paused by nurture',
  `newsletter.resumed by ${SECOND_MARKETER}`,
  'newsletter.finished by nurture',
];

describe('sending a newsletter', () => {
  it('leaves out a lead a rep claimed from a hot-lead alert: the card says so, and that lead gets nothing', async () => {
    const team = app.slack.teamId;
    await insertManyLeads(app, 'held', 3);
    const claimed = await insertLead(app.db.sql, team, { email: 'held-claimed@example.com' });
    // What claiming an alert does (tests/alerts/alert-buttons.test.ts): the lead's nurture holds for the claim.
    await holdLeadNurture(app.nurture.services, { teamId: team, leadId: claimed.id, until: new Date(Date.now() + 14 * 86_400_000), byUserId: REP, reason: 'claimed hot-lead alert 1' });
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('held') });
    expect(newsletter.planned_count).toBe(3);
    expect(cardText(app, newsletter)).toContain('1 left out while sales is on it');

    expect(await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter)).toBeUndefined();
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'sent', { timeoutMs: 30_000, description: 'the newsletter to be sent' });
    expect((await findRow(app, newsletter.id)).recipient_count).toBe(3);
    expect(emailsTo('held').map((email) => email.to[0]).sort()).toEqual(['held-1@example.com', 'held-2@example.com', 'held-3@example.com']);
  });

  it('approved, every member gets exactly one email, the card shows progress at a throttled pace and ends with the summary', async () => {
    const team = app.slack.teamId;
    await insertManyLeads(app, 'all', 1999);
    await insertLead(app.db.sql, team, { email: 'all-hana@example.com', first_name: 'Hana', company: 'Kojo' });
    const capped = await insertLead(app.db.sql, team, { email: 'all-capped@example.com' });
    await insertSend(app.db.sql, team, capped.id, { sourceId: 900_001, sentAt: new Date(Date.now() - 3_600_000) });
    await insertLead(app.db.sql, team, { email: 'all-gone@example.com', status: 'unsubscribed' });
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('all') });
    expect(newsletter.planned_count).toBe(2000);

    expect(await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter)).toBeUndefined();
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'sent', { timeoutMs: 30_000, description: 'the newsletter to be sent' });

    const sent = await findRow(app, newsletter.id);
    expect(sent).toMatchObject({ recipient_count: 2001, status: 'sent' });
    expect(sent.finished_at).not.toBeNull();
    expect(emailsTo('all')).toHaveLength(2000);
    expectOneEachAtMost('all');
    expect(app.resend.byRecipient('all-capped@example.com')).toHaveLength(0);
    expect(app.resend.byRecipient('all-gone@example.com')).toHaveLength(0);
    expect(await ledger(newsletter.id)).toEqual({ accepted: 2000, capped: 1 });

    const [hana] = app.resend.byRecipient('all-hana@example.com');
    expect(hana).toMatchObject({ from: 'Kojo Marketing <news@test.example>', subject: 'News for Hana' });
    expect(hana!.text).toContain('Our autumn line for Kojo is here.');
    expect(hana!.text).toContain('1-2-3 Marunouchi, Tokyo 100-0005');
    expect(hana!.headers).toMatchObject({ 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });

    await waitForCard(app, sent, '*Sent* to 2,001 people: accepted *2,000* · failed 0 · suppressed 0 · capped 1 · cancelled 0');
    expect(cardButtons(app, sent)).toEqual([]);
    // 20 chunks settled, but the card is updated far less often than once per chunk.
    const updates = app.slack.callsTo('chat.update').filter((call) => call.args.ts === newsletter.message_ts);
    expect(updates.length).toBeLessThan(12);
    expect(updates.some((call) => JSON.stringify(call.args.blocks).includes('*Sending:* '))).toBe(true);
    expect(await auditActions(app, newsletter.id)).toEqual([
      `newsletter.requested by ${MARKETER}`,
      `newsletter.approved by ${SECOND_MARKETER}`,
      'newsletter.started by nurture',
      'newsletter.finished by nurture',
    ]);
  });

  it('cancelled while sending, what was not sent is not sent', async () => {
    await insertManyLeads(app, 'stop', 3000);
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('stop') });
    await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter);
    await waitFor(() => emailsTo('stop').length > 0, { timeoutMs: 10_000, description: 'the first emails' });
    expect(await clickCard(app, REP, ActionIds.newsletterCancel, newsletter)).toMatch(/^Cancelling a newsletter needs/);
    expect(await clickCard(app, MARKETER, ActionIds.newsletterCancel, newsletter)).toBeUndefined();

    // Batches already handed over finish; everything else is cancelled.
    await waitFor(async () => {
      const states = await ledger(newsletter.id);
      return states.queued === undefined && states.sending === undefined && states;
    }, { timeoutMs: 20_000, description: 'no row left queued or sending' });
    const { accepted = 0, cancelled: unsent = 0, ...others } = await ledger(newsletter.id);
    expect(others).toEqual({});
    expect(unsent).toBeGreaterThan(0);
    expect(accepted + unsent).toBe(3000);
    expect(emailsTo('stop')).toHaveLength(accepted);
    expectOneEachAtMost('stop');
    const cancelled = await findRow(app, newsletter.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelled_by: MARKETER });
    await waitForCard(app, cancelled, `*Cancelled* while sending; what had not gone out will not: accepted *${accepted.toLocaleString('en-US')}*`);
    expect(await auditActions(app, newsletter.id)).toContain(`newsletter.cancelled by ${MARKETER}`);
  });

  it('cancels the email still waiting for a lead a rep claims while the newsletter is under way (here paused); the others get theirs', async () => {
    const team = app.slack.teamId;
    await insertManyLeads(app, 'mid', 10);
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('mid') });
    // The audience grows past the plan, so the send waits, paused, with every row written.
    await insertManyLeads(app, 'mid-late', 100);
    await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter);
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'paused', { timeoutMs: 10_000, description: 'the start to pause' });
    const [claimed] = await app.db.sql<{ id: number }[]>`SELECT id FROM leads WHERE team_id = ${team} AND email = 'mid-3@example.com'`;
    await holdLeadNurture(app.nurture.services, { teamId: team, leadId: claimed!.id, until: new Date(Date.now() + 14 * 86_400_000), byUserId: REP, reason: 'claimed hot-lead alert 2' });

    expect(await clickCard(app, SECOND_MARKETER, ActionIds.newsletterResume, await findRow(app, newsletter.id))).toBeUndefined();
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'sent', { timeoutMs: 20_000, description: 'the resumed send to finish' });
    expect(emailsTo('mid')).toHaveLength(109);
    expect(emailsTo('mid').map((email) => email.to[0])).not.toContain('mid-3@example.com');
    expect(await ledger(newsletter.id)).toEqual({ accepted: 109, cancelled: 1 });
  });

  it('waits for a person when the audience grew well past the approved plan by its start; Resume sends to all of them', async () => {
    await insertManyLeads(app, 'grow', 10);
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('grow') });
    expect(newsletter.planned_count).toBe(10);
    // Between the plan and its start, an import brings 100 more people into the segment.
    await insertManyLeads(app, 'grow-late', 100);
    await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter);

    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'paused', { timeoutMs: 10_000, description: 'the start to pause' });
    const paused = await findRow(app, newsletter.id);
    expect(paused).toMatchObject({ recipient_count: 110, pause_reason: audienceGrewText(10, 110) });
    const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === MARKETER && String(call.args.text).includes(`#${newsletter.id}`));
    expect(dm.args.text).toBe(pausedDmText(newsletter.id, 'Autumn line', newsletter.channel_id, audienceGrewText(10, 110)));
    expect(emailsTo('grow')).toEqual([]);

    expect(await clickCard(app, SECOND_MARKETER, ActionIds.newsletterResume, paused)).toBeUndefined();
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'sent', { timeoutMs: 20_000, description: 'the resumed send to finish' });
    expect(emailsTo('grow')).toHaveLength(110);
    expectOneEachAtMost('grow');
  });

  it('pauses itself when Resend refuses a batch, tells the requester, and a marketer resumes it to the end', async () => {
    await insertManyLeads(app, 'halt', 500);
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('halt') });
    app.resend.failNext(1, { status: 403, name: 'validation_error', message: 'The test.example domain is not verified.' });
    await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter);

    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'paused', { timeoutMs: 10_000, description: 'the send to pause' });
    const paused = await findRow(app, newsletter.id);
    expect(paused.pause_reason).toContain('The test.example domain is not verified.');
    const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === MARKETER && String(call.args.text).includes(`newsletter #${newsletter.id} `));
    expect(dm.args.text).toBe(pausedDmText(newsletter.id, 'Autumn line', newsletter.channel_id, paused.pause_reason!));
    await waitForCard(app, paused, '*Paused* after');
    expect(cardButtons(app, paused)).toEqual([ActionIds.newsletterResume, ActionIds.newsletterCancel]);

    expect(await clickCard(app, REP, ActionIds.newsletterResume, paused)).toMatch(/^Resuming a newsletter needs/);
    expect(await clickCard(app, SECOND_MARKETER, ActionIds.newsletterResume, paused)).toBeUndefined();
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'sent', { timeoutMs: 20_000, description: 'the resumed send to finish' });
    expect(emailsTo('halt')).toHaveLength(500);
    expectOneEachAtMost('halt');
    await waitForCard(app, paused, '*Sent* to 500 people: accepted *500*');
    expect(await auditActions(app, newsletter.id)).toEqual(PAUSED_BY_NURTURE_THEN_RESUMED);
  });

  it('pauses itself after five failed batches in a row, tells the requester why, and resumed with Resend healthy sends everyone one email', async () => {
    await insertManyLeads(app, 'streak', 500);
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('streak') });
    const pausedDms = () => app.slack.callsTo('chat.postMessage').filter((call) => call.args.channel === MARKETER && String(call.args.text).includes(`newsletter #${newsletter.id} `));
    // Every attempt of its five batches (three each, in parallel) gets a 500.
    app.resend.failNext(15, { status: 500 });
    await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter);

    const reason = '5 batches in a row could not be sent. The last one: Resend did not answer (server-error 500): An unexpected error occurred.';
    const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === MARKETER && String(call.args.text).includes(`newsletter #${newsletter.id} `), { timeoutMs: 15_000 });
    expect(dm.args.text).toBe(pausedDmText(newsletter.id, 'Autumn line', newsletter.channel_id, reason));
    const paused = await findRow(app, newsletter.id);
    expect(paused).toMatchObject({ status: 'paused', pause_reason: reason });
    await waitForCard(app, paused, `*Paused* after 0 / 500: ${reason}`);
    expect(emailsTo('streak')).toEqual([]);

    expect(await clickCard(app, SECOND_MARKETER, ActionIds.newsletterResume, paused)).toBeUndefined();
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'sent', { timeoutMs: 20_000, description: 'the resumed send to finish' });
    expect(emailsTo('streak')).toHaveLength(500);
    expectOneEachAtMost('streak');
    await waitForCard(app, paused, '*Sent* to 500 people: accepted *500*');
    expect(pausedDms()).toHaveLength(1);
    expect(await auditActions(app, newsletter.id)).toEqual(PAUSED_BY_NURTURE_THEN_RESUMED);
  });

  it('a start that dies after its commit, before queueing its chunks, is completed by its retry: everyone once', async () => {
    await insertManyLeads(app, 'crash', 250);
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('crash'), later: { date: dayInZone('UTC', 1), time: '08:00' } });
    await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter);
    const services = app.nurture.services;
    const job = { teamId: app.slack.teamId, newsletterId: newsletter.id };
    const at = new Date(newsletter.send_at.getTime() + 1000);
    const dying = Object.assign((async () => null) as unknown as Enqueue, {
      many: async () => {
        throw new Error('the process died');
      },
    });
    await expect(startNewsletter({ ...services, enqueue: dying }, job, at)).rejects.toThrow('the process died');
    // The rows are in, the count is not: the newsletter cannot be taken for finished.
    expect(await findRow(app, newsletter.id)).toMatchObject({ status: 'sending', recipient_count: null });
    expect(await ledger(newsletter.id)).toEqual({ queued: 250 });

    // pg-boss retries the job: it finds the newsletter sending, completes its rows and count, and queues what is pending.
    await startNewsletter(services, job, at);
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'sent', { timeoutMs: 20_000, description: 'the retried start to finish the send' });
    expect(emailsTo('crash')).toHaveLength(250);
    expectOneEachAtMost('crash');
  });

  it('a start that dies between two slices of its recipients is completed by its retry: everyone once, nobody left out', async () => {
    // More people than the first slice: the first slice's chunks are queued (and sent) before the rest is written.
    await insertManyLeads(app, 'slices', 2_300);
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('slices'), later: { date: dayInZone('UTC', 1), time: '08:00' } });
    await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter);
    const services = app.nurture.services;
    const job = { teamId: app.slack.teamId, newsletterId: newsletter.id };
    const at = new Date(newsletter.send_at.getTime() + 1000);
    let batches = 0;
    const diesOnSecondSlice = Object.assign(((...args: Parameters<Enqueue>) => services.enqueue(...args)) as Enqueue, {
      many: async (...args: Parameters<Enqueue['many']>) => {
        if (++batches === 2) throw new Error('the process died');
        return services.enqueue.many(...args);
      },
    });
    await expect(startNewsletter({ ...services, enqueue: diesOnSecondSlice }, job, at)).rejects.toThrow('the process died');
    expect(await findRow(app, newsletter.id)).toMatchObject({ status: 'sending', recipient_count: null });

    await startNewsletter(services, job, at);
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'sent', { timeoutMs: 30_000, description: 'the retried start to finish the send' });
    expect(await findRow(app, newsletter.id)).toMatchObject({ recipient_count: 2_300 });
    expect(emailsTo('slices')).toHaveLength(2_300);
    expectOneEachAtMost('slices');
  });

  it('"Send me a test" mails the approved content to the person who clicked', async () => {
    await insertLead(app.db.sql, app.slack.teamId, { email: 'test-one@example.com' });
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId: await segmentOf('test') });
    // The template and the sender change after the plan; the test shows what was planned.
    await app.db.sql`UPDATE templates SET subject = 'Changed later' WHERE id = ${templateId}`;
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { senderName: 'Renamed Later', postalAddress: 'Somewhere else 1, Osaka' });
    const reply = await clickCard(app, SECOND_MARKETER, ActionIds.newsletterSendTest, newsletter);
    expect(reply).toContain('Sent a test of *Autumn line* to moto@kojo.example');
    const [test] = await app.resend.waitForEmails((email) => email.to.includes('moto@kojo.example'));
    expect(test!.subject).toBe('[Test] News for Yui');
    expect(test!.from).toBe('Kojo Marketing <news@test.example>');
    expect(test!.text).toContain('1-2-3 Marunouchi, Tokyo 100-0005');
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { senderName: 'Kojo Marketing', postalAddress: '1-2-3 Marunouchi, Tokyo 100-0005' });
    expect(await clickCard(app, REP, ActionIds.newsletterSendTest, newsletter)).toMatch(/^Sending a test of a newsletter needs/);
    expect(cardText(app, newsletter)).toContain('*Waiting for approval*');
  });
});
