import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageWarningText } from '../../src/modules/newsletters/build-newsletter-card.ts';
import { inviteBotText, NewsletterBlockIds, WHEN_LATER } from '../../src/modules/newsletters/build-newsletter-modal.ts';
import { insertNewsletter } from '../../src/modules/newsletters/queries.ts';
import { NO_POSTAL_ADDRESS_TEXT, pastTimeText, skippedTimeText } from '../../src/modules/newsletters/submit-newsletter-modal.ts';
import { wallTimeToInstant } from '../../src/modules/settings/zoned-time.ts';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { ActionIds } from '../../src/slack/ids.ts';
import { insertLead, insertSend } from '../support/factories.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import {
  CHANNEL,
  MARKETER,
  NEWS_TEMPLATE,
  QUIET_CHANNEL,
  REP,
  cardButtons,
  cardText,
  createSegment,
  createTemplate,
  dayInZone,
  findRow,
  openPlanForm,
  planNewsletter,
  setUpWorkspace,
  submitPlan,
  submitPlanForm,
} from './newsletter-support.ts';

let app: TestApp;
let templateId: number;
let segmentId: number;
const HOUR = 3_600_000;

beforeAll(async () => {
  app = await startTestApp();
  await setUpWorkspace(app);
  const team = app.slack.teamId;
  const sql = app.db.sql;
  templateId = await createTemplate(app);
  segmentId = await createSegment(app, 'Everyone');
  // Nine subscribed members in six industries, one held back by the cap, two suppressed.
  const capped = await insertLead(sql, team, { email: 'aya@mill.example', industry: 'manufacturing', stage: 'awareness' });
  await insertSend(sql, team, capped.id, { sourceId: 900_001, sentAt: new Date(Date.now() - HOUR) });
  const failedBefore = await insertLead(sql, team, { email: 'rio@shop.example', industry: 'retail', stage: 'decision' });
  await insertSend(sql, team, failedBefore.id, { sourceId: 900_002, state: 'failed', sentAt: new Date(Date.now() - HOUR) });
  await insertLead(sql, team, { email: 'max@ship.example', industry: 'logistics', stage: 'awareness' });
  await insertLead(sql, team, { email: 'eve@grid.example', industry: 'energy', stage: 'consideration' });
  await insertLead(sql, team, { email: 'ian@care.example', industry: 'healthcare', stage: 'awareness' });
  await insertLead(sql, team, { email: 'lee@soft.example', industry: 'software', stage: 'consideration' });
  await insertLead(sql, team, { email: 'out@kojo.example', industry: 'manufacturing', status: 'unsubscribed' });
  await insertLead(sql, team, { email: 'gone@kojo.example', industry: 'manufacturing', status: 'bounced' });
  await insertLead(sql, team, { email: 'sam@soft.example', industry: 'software', stage: 'awareness' });
  await insertLead(sql, team, { email: 'ken@kojo.example', first_name: 'Ken', industry: 'Manufacturing', stage: 'awareness' });
  await insertLead(sql, team, { email: 'hana@kojo.example', first_name: 'Hana', last_name: 'Sato', company: 'Kojo', industry: 'manufacturing', stage: 'awareness' });
  // Another workspace's leads never count.
  await insertLead(sql, 'T0ELSEWHERE', { email: 'x@else.example', industry: 'manufacturing' });
  // The last newsletter to this segment reached six people.
  await insertNewsletter(sql, {
    teamId: team,
    templateId,
    segmentId,
    content: { template: NEWS_TEMPLATE, senderName: 'Kojo Marketing', postalAddress: 'x', plan: { segmentName: 'Everyone', subscribed: 6, suppressed: 0, capped: 0, held: 0, planned: 6, previous: null, byStage: [], byIndustry: [], otherIndustries: 0, sampleLeadIds: [] } },
    sendAt: new Date(Date.now() - 72 * HOUR),
    requestedBy: MARKETER,
    channelId: CHANNEL,
    plannedCount: 6,
  });
  await sql`UPDATE newsletters SET status = 'sent', recipient_count = 6, started_at = now() - interval '3 days', finished_at = now() - interval '3 days'`;
});
afterAll(() => app.stop());

describe('the send plan card', () => {
  it('shows the audience after suppression and caps, the change, the split, three renders, a stage warning and the buttons', async () => {
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId });
    const text = cardText(app, newsletter);
    expect(text).toContain('Newsletter #2: Autumn line');
    expect(text).toContain('Autumn line (decision)');
    expect(text).toContain('News for {{ first_name | default: "you" }}');
    expect(text).toContain('*Audience:* 8 people would get it right now.');
    expect(text).toContain('9 subscribed members of the segment, of whom 1 is held back by the frequency cap. 2 more left out: unsubscribed, bounced or complained.');
    expect(text).toContain('+2 since the last newsletter to this segment (6 recipients');
    expect(text).toContain('*By stage:* awareness 5 (63%) · consideration 2 (25%) · decision 1 (13%)');
    expect(text).toMatch(/\*By industry:\* manufacturing 2 · software 2 · energy 1 · healthcare 1 · logistics 1 · other 1/i);
    expect(text).toContain(stageWarningText('decision', 'awareness', 5 / 8));
    // Three real members, newest first, rendered from the template.
    expect(text).toContain('*To:* Hana Sato &lt;hana@kojo.example&gt;\n*Subject:* News for Hana\n> Hi Hana,\n> Our autumn line for Kojo is here.');
    expect(text).toContain('*To:* Ken &lt;ken@kojo.example&gt;\n*Subject:* News for Ken');
    expect(text).toContain('*To:* sam@soft.example\n*Subject:* News for you\n> Hi there,');
    expect(text).toContain(`*Waiting for approval* by a marketer or admin other than <@${MARKETER}>`);
    expect(cardButtons(app, newsletter)).toEqual([ActionIds.newsletterSendTest, ActionIds.newsletterApprove, ActionIds.newsletterReject, ActionIds.newsletterCancel]);

    expect(newsletter).toMatchObject({ status: 'awaiting_approval', planned_count: 8, requested_by: MARKETER, channel_id: CHANNEL, template_id: templateId, segment_id: segmentId });
    expect(newsletter.content).toMatchObject({ template: NEWS_TEMPLATE, senderName: 'Kojo Marketing', postalAddress: '1-2-3 Marunouchi, Tokyo 100-0005' });
    const [audit] = await app.db.sql`SELECT actor_user_id, details FROM audit_log WHERE action = 'newsletter.requested'`;
    expect(audit).toMatchObject({ actor_user_id: MARKETER, details: { template: 'Autumn line', segment: 'Everyone', planned: 8 } });
  });

  it('keeps what was planned when the template is edited afterwards', async () => {
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId });
    await app.db.sql`UPDATE templates SET subject = 'Changed later' WHERE id = ${templateId}`;
    const again = await findRow(app, newsletter.id);
    expect(again.content.template.subject).toBe(NEWS_TEMPLATE.subject);
    await app.db.sql`UPDATE templates SET subject = ${NEWS_TEMPLATE.subject} WHERE id = ${templateId}`;
  });

  it('converts a day and time in the workspace zone to the instant, and shows it in that zone', async () => {
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { timeZone: 'America/New_York' });
    const date = dayInZone('America/New_York', 2);
    const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId, later: { date, time: '09:30' } });
    const expected = wallTimeToInstant({ date, time: '09:30' }, 'America/New_York');
    expect(expected.ok && newsletter.send_at.toISOString()).toBe(expected.ok && expected.instant.toISOString());
    expect(cardText(app, newsletter)).toMatch(/09:30 \(America\/New_York\)/);
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { timeZone: 'UTC' });
  });
});

describe('the newsletter form refuses', () => {
  const errorsOf = async (request: Parameters<typeof submitPlan>[2]) => {
    const { ack } = await submitPlan(app, MARKETER, request);
    expect(ack).toMatchObject({ response_action: 'errors' });
    return (ack as { errors: Record<string, string> }).errors;
  };

  it('a time in the past, a time the clocks skip, and a missing time', async () => {
    expect(await errorsOf({ templateId, segmentId, later: { date: dayInZone('UTC', -1), time: '09:00' } })).toEqual({
      [NewsletterBlockIds.time]: expect.stringMatching(/^That time has passed: it is .* \(UTC\) now\./),
    });
    expect(pastTimeText('x')).toContain('Pick a later time');
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { timeZone: 'Europe/Berlin' });
    // 29 March 2099 is the last Sunday of March: Berlin's clocks go from 02:00 to 03:00.
    expect(await errorsOf({ templateId, segmentId, later: { date: '2099-03-29', time: '02:30' } })).toEqual({ [NewsletterBlockIds.time]: skippedTimeText('Europe/Berlin') });
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { timeZone: 'UTC' });

    const { viewId } = await submitPlan(app, MARKETER, { templateId, segmentId, later: { date: dayInZone('UTC', 1), time: '10:00' } });
    const noTime = (await app.interaction(
      app.slack.viewSubmission({ viewId, userId: MARKETER, values: { [NewsletterBlockIds.template]: String(templateId), [NewsletterBlockIds.segment]: String(segmentId), [NewsletterBlockIds.when]: WHEN_LATER, [NewsletterBlockIds.date]: dayInZone('UTC', 1) } }),
    )) as { errors: Record<string, string> };
    expect(noTime.errors).toEqual({ [NewsletterBlockIds.time]: 'Pick the time it goes out.' });
  });

  it('any send while the workspace has no postal address, telling who sets it', async () => {
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { postalAddress: null });
    expect(await errorsOf({ templateId, segmentId })).toEqual({ [NewsletterBlockIds.template]: NO_POSTAL_ADDRESS_TEXT });
    expect(NO_POSTAL_ADDRESS_TEXT).toContain('/nurture settings');
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { postalAddress: '1-2-3 Marunouchi, Tokyo 100-0005' });
  });

  it('a template that does not compile', async () => {
    // Saved before validation existed, say: the form still refuses to send it.
    const [broken] = await app.db.sql<{ id: number }[]>`
      INSERT INTO templates (team_id, name, stage, subject, body, created_by, updated_by)
      VALUES (${app.slack.teamId}, 'Broken', 'awareness', 'Hi', 'Hello {% if first_name %}there', ${MARKETER}, ${MARKETER}) RETURNING id`;
    const errors = await errorsOf({ templateId: broken!.id, segmentId });
    expect(errors[NewsletterBlockIds.template]).toMatch(/^The template "Broken" has problems/);
  });

  it('someone who may not plan newsletters, at the command and with the form in hand', async () => {
    expect(replyText((await app.command(REP, 'newsletter new')).reply.body)).toMatch(/^Planning a newsletter needs one of these roles: \*marketer\*/);
    const viewId = await openPlanForm(app, MARKETER);
    const ack = (await submitPlanForm(app, viewId, REP, { templateId, segmentId })) as { errors: Record<string, string> };
    expect(ack.errors[NewsletterBlockIds.template]).toMatch(/^Planning a newsletter needs one of these roles: \*marketer\*/);
  });

  it('nothing is left behind when I cannot post in the channel, and the person is told to invite me', async () => {
    const [before] = await app.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM newsletters`;
    const { ack, viewId } = await submitPlan(app, MARKETER, { templateId, segmentId, channelId: QUIET_CHANNEL });
    expect(ack).toMatchObject({ response_action: 'update' });
    const told = await app.slack.waitForCall('views.update', (call) => call.args.view_id === viewId && JSON.stringify(call.args.view).includes('Invite me'));
    expect(JSON.stringify(told.args.view)).toContain(JSON.stringify(inviteBotText(QUIET_CHANNEL)).slice(1, -1));
    const [after] = await app.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM newsletters`;
    expect(after!.n).toBe(before!.n);
  });
});

describe('/nurture newsletter list and show', () => {
  it('lists recent newsletters with status and counts, and shows one card without buttons', async () => {
    const list = replyText((await app.command(REP, 'newsletter list')).reply.body);
    expect(list).toMatch(/• \*#2\* Autumn line → Everyone · \*awaiting approval\* · 8 planned/);
    expect(list).toMatch(/• \*#1\* Autumn line → Everyone · \*sent\* · 0 \/ 6 sent/);
    const shown = (await app.command(REP, 'newsletter show #2')).reply.body;
    expect(replyText(shown)).toContain('*Audience:* 8 people would get it right now.');
    expect(JSON.stringify(shown)).not.toContain(ActionIds.newsletterApprove);
    expect(replyText((await app.command(REP, 'newsletter show 999')).reply.body)).toContain('There is no newsletter #999');
  });

  it('a segment an unfinished newsletter sends to cannot be deleted; once it is finished, it can, and the newsletters keep its name', async () => {
    const refusal = replyText((await app.command(MARKETER, 'segment delete Everyone')).reply.body);
    expect(refusal).toMatch(/^"Everyone" is in use by the newsletter "#\d+ Autumn line \(awaiting approval\)"/);
    expect(refusal).toContain('the newsletter "#2 Autumn line (awaiting approval)"');
    // #1 was sent: finished newsletters do not hold a segment.
    expect(refusal).not.toContain('#1 Autumn line');

    await app.db.sql`UPDATE newsletters SET status = 'rejected' WHERE team_id = ${app.slack.teamId} AND status = 'awaiting_approval'`;
    const [segment] = await app.db.sql<{ id: number }[]>`SELECT id FROM segments WHERE team_id = ${app.slack.teamId} AND name = 'Everyone'`;
    const deleted = await app.clickMessageButton(MARKETER, { actionId: ActionIds.segmentDeleteConfirm, value: String(segment!.id) });
    expect(replyText(deleted.body)).toBe('Deleted the segment *Everyone*.');
    const list = replyText((await app.command(REP, 'newsletter list')).reply.body);
    expect(list).toMatch(/• \*#1\* Autumn line → Everyone · \*sent\*/);
  });
});
