import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWN_APPROVAL_TEXT, ownApprovalAboveThresholdText } from '../../src/modules/newsletters/decide-newsletter.ts';
import { startNewsletter } from '../../src/modules/newsletters/start-newsletter.ts';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { ActionIds } from '../../src/slack/ids.ts';
import { insertLead } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  MARKETER,
  OWNER,
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
  planNewsletter,
  setUpWorkspace,
  waitForCard,
} from './newsletter-support.ts';

let app: TestApp;
let templateId: number;
let segmentId: number;
const TOMORROW = { date: dayInZone('UTC', 1), time: '09:00' };
const MINUTE = 60_000;

beforeAll(async () => {
  app = await startTestApp();
  await setUpWorkspace(app);
  templateId = await createTemplate(app);
  segmentId = await createSegment(app, 'Everyone');
  for (const name of ['ann', 'ben', 'cho']) await insertLead(app.db.sql, app.slack.teamId, { email: `${name}@kojo.example`, first_name: name });
});
afterAll(() => app.stop());

const ledgerRows = async (newsletterId: number) =>
  (await app.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM email_sends WHERE source_kind = 'newsletter' AND source_id = ${newsletterId}`)[0]!.n;

const startJobs = async (newsletterId: number) =>
  app.db.sql<{ start_after: Date }[]>`SELECT start_after FROM pgboss.job WHERE name = 'newsletters.start' AND data->>'newsletterId' = ${String(newsletterId)}`;

describe('approving a newsletter', () => {
  it('the requester cannot approve their own, a rep cannot approve, a second marketer can', async () => {
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: TOMORROW });

    expect(await clickAs(MARKETER, ActionIds.newsletterApprove, newsletter)).toBe(OWN_APPROVAL_TEXT);
    expect(await clickAs(REP, ActionIds.newsletterApprove, newsletter)).toMatch(/^Approving a newsletter needs one of these roles: \*marketer\*/);
    expect((await findRow(app, newsletter.id)).status).toBe('awaiting_approval');

    expect(await clickAs(SECOND_MARKETER, ActionIds.newsletterApprove, newsletter)).toBeUndefined();
    const approved = await findRow(app, newsletter.id);
    expect(approved).toMatchObject({ status: 'scheduled', decided_by: SECOND_MARKETER });
    await waitForCard(app, approved, '*Approved.* It goes out');
    expect(cardText(app, approved)).toContain(`approved by <@${SECOND_MARKETER}>`);
    expect(cardButtons(app, approved)).toEqual([ActionIds.newsletterSendTest, ActionIds.newsletterCancel]);
    // Its start waits in the queue for its time.
    expect((await startJobs(newsletter.id)).map((job) => job.start_after.toISOString())).toEqual([approved.send_at.toISOString()]);
    expect(await auditActions(app, newsletter.id)).toEqual([`newsletter.requested by ${MARKETER}`, `newsletter.approved by ${SECOND_MARKETER}`]);

    // Clicking again changes nothing and says why.
    expect(await clickAs(OWNER, ActionIds.newsletterApprove, approved)).toBe(`Newsletter #${newsletter.id} is already approved, so there is nothing to do.`);
  });

  it('the requester may approve their own below the workspace threshold, not at or above it', async () => {
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { selfApprovalBelow: 3 });
    const { newsletter: big } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: TOMORROW });
    expect(big.planned_count).toBe(3);
    expect(await clickAs(MARKETER, ActionIds.newsletterApprove, big)).toBe(ownApprovalAboveThresholdText(3));

    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { selfApprovalBelow: 10 });
    const { newsletter: small } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: TOMORROW });
    expect(cardText(app, small)).toContain(`(or <@${MARKETER}> themselves: it is below 10 recipients)`);
    expect(await clickAs(MARKETER, ActionIds.newsletterApprove, small)).toBeUndefined();
    expect(await findRow(app, small.id)).toMatchObject({ status: 'scheduled', decided_by: MARKETER });
    const [audit] = await app.db.sql`SELECT details FROM audit_log WHERE action = 'newsletter.approved' AND subject = ${String(small.id)}`;
    expect(audit!.details).toMatchObject({ selfApproved: true, planned: 3 });
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { selfApprovalBelow: null });
  });

  it('a second marketer rejects; the requester rejecting their own withdraws it', async () => {
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: TOMORROW });
    expect(await clickAs(REP, ActionIds.newsletterReject, newsletter)).toMatch(/^Rejecting a newsletter needs/);
    expect(await clickAs(SECOND_MARKETER, ActionIds.newsletterReject, newsletter)).toBeUndefined();
    const rejected = await findRow(app, newsletter.id);
    expect(rejected).toMatchObject({ status: 'rejected', decided_by: SECOND_MARKETER });
    await waitForCard(app, rejected, '*Rejected.* Nothing was sent.');
    expect(cardText(app, rejected)).toContain(`rejected by <@${SECOND_MARKETER}>`);
    expect(cardButtons(app, rejected)).toEqual([]);

    const { newsletter: withdrawn } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: TOMORROW });
    expect(await clickAs(MARKETER, ActionIds.newsletterReject, withdrawn)).toBeUndefined();
    expect(await findRow(app, withdrawn.id)).toMatchObject({ status: 'cancelled', cancelled_by: MARKETER });
    expect(await auditActions(app, withdrawn.id)).toEqual([`newsletter.requested by ${MARKETER}`, `newsletter.cancelled by ${MARKETER}`]);
  });
});

describe('cancelling before the start', () => {
  it('stops an approved newsletter: its start then sends nothing', async () => {
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: TOMORROW });
    await clickAs(SECOND_MARKETER, ActionIds.newsletterApprove, newsletter);
    expect(await clickAs(REP, ActionIds.newsletterCancel, newsletter)).toMatch(/^Cancelling a newsletter needs/);
    expect(await clickAs(MARKETER, ActionIds.newsletterCancel, newsletter)).toBeUndefined();
    const cancelled = await findRow(app, newsletter.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelled_by: MARKETER });
    await waitForCard(app, cancelled, '*Cancelled.* Nothing was sent.');

    // Its start job, run at its time, finds it cancelled.
    await startNewsletter(app.nurture.services, { teamId: app.slack.teamId, newsletterId: newsletter.id }, new Date(newsletter.send_at.getTime() + MINUTE));
    expect(await findRow(app, newsletter.id)).toMatchObject({ status: 'cancelled', started_at: null });
    expect(await ledgerRows(newsletter.id)).toBe(0);
    expect(await auditActions(app, newsletter.id)).toEqual([
      `newsletter.requested by ${MARKETER}`,
      `newsletter.approved by ${SECOND_MARKETER}`,
      `newsletter.cancelled by ${MARKETER}`,
    ]);
  });
});

describe('expiry', () => {
  it('a newsletter approved after its slot has passed expires: nothing is sent, the card says so', async () => {
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId });
    // Approved two hours after it was meant to go (the workspace allows 60 minutes).
    await app.db.sql`UPDATE newsletters SET send_at = now() - interval '2 hours' WHERE id = ${newsletter.id}`;
    expect(await clickAs(SECOND_MARKETER, ActionIds.newsletterApprove, newsletter)).toBeUndefined();
    await waitFor(async () => (await findRow(app, newsletter.id)).status === 'expired', { description: 'the newsletter to expire', timeoutMs: 10_000 });
    const expired = await findRow(app, newsletter.id);
    await waitForCard(app, expired, '*Expired.*');
    expect(cardText(app, expired)).toContain('so it was not sent late. Nothing was sent.');
    expect(cardButtons(app, expired)).toEqual([]);
    expect(await ledgerRows(newsletter.id)).toBe(0);
    expect(app.resend.emails).toHaveLength(0);
    expect(await auditActions(app, newsletter.id)).toEqual([`newsletter.requested by ${MARKETER}`, `newsletter.approved by ${SECOND_MARKETER}`, 'newsletter.expired by nurture']);
  });

  it('the start job, by its own clock, starts within the expiry and expires after it', async () => {
    const services = app.nurture.services;
    const teamId = app.slack.teamId;
    const { newsletter: inTime } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: TOMORROW });
    const { newsletter: tooLate } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: TOMORROW });
    await clickAs(SECOND_MARKETER, ActionIds.newsletterApprove, inTime);
    await clickAs(SECOND_MARKETER, ActionIds.newsletterApprove, tooLate);

    await startNewsletter(services, { teamId, newsletterId: tooLate.id }, new Date(tooLate.send_at.getTime() + 61 * MINUTE));
    expect(await findRow(app, tooLate.id)).toMatchObject({ status: 'expired', started_at: null });
    expect(await ledgerRows(tooLate.id)).toBe(0);

    await startNewsletter(services, { teamId, newsletterId: inTime.id }, new Date(inTime.send_at.getTime() + 59 * MINUTE));
    expect(await findRow(app, inTime.id)).toMatchObject({ status: 'sending', recipient_count: 3 });
    expect(await ledgerRows(inTime.id)).toBe(3);
    // Run again (a retry after a crash): nobody is added twice.
    await startNewsletter(services, { teamId, newsletterId: inTime.id }, new Date(inTime.send_at.getTime() + 60 * MINUTE));
    expect(await ledgerRows(inTime.id)).toBe(3);
  });
});

/** The click's ephemeral answer, or undefined when it was taken. */
const clickAs = (userId: string, actionId: string, newsletter: Parameters<typeof clickCard>[3]) => clickCard(app, userId, actionId, newsletter);
