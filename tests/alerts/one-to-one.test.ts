import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OneToOneBlockIds } from '../../src/modules/one-to-one/build-one-to-one-modal.ts';
import { insertTemplate } from '../../src/modules/templates/queries.ts';
import { insertSend } from '../support/factories.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { replyText } from '../support/slack-replies.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { hit, local, trackedUrls } from '../tracking/tracking-support.ts';
import {
  ackedNotice,
  broadcastTo,
  emailButtonClick,
  initialValues,
  modalText,
  newLead,
  openEmailForm,
  OUTSIDER,
  OWNER,
  POSTAL_ADDRESS,
  postAlert,
  REP,
  REP_EMAIL,
  REP_NAME,
  setFollowUpTemplate,
  settledRowOf,
  startOneToOneApp,
  submitEmailForm,
} from './one-to-one-support.ts';

const clock = new ManualClock('2026-11-23T10:00:00Z'); // Mon 23 Nov 2026, 10:00 UTC
let app: TestApp;
let teamId: string;

beforeAll(async () => {
  app = await startOneToOneApp(clock);
  teamId = app.slack.teamId;
});
afterAll(() => app.stop());

const oneToOneRows = async (leadId: number) =>
  (await app.db.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM one_to_one_emails WHERE team_id = ${teamId} AND lead_id = ${leadId}`)[0]!.count;

describe('Email 1:1 on a hot-lead alert', () => {
  it('opens a form prefilled from the channel’s follow-up template, in the rep’s name with their reply-to', async () => {
    const template = await insertTemplate(app.db.sql, teamId, OWNER, {
      name: 'Pricing follow-up',
      stage: 'decision',
      subject: 'Pricing for {{ company | default: "your team" }}',
      preheader: '',
      body: 'Hi {{ first_name | default: "there" }},\n\nHere is **pricing** for {{ company }}: [plans](https://kojo.example/pricing).',
    });
    await setFollowUpTemplate(app, template!.id);
    const lead = await newLead(app, { email: 'yui@robotics.example' });
    const alert = await postAlert(app, clock, lead.id);

    const form = await openEmailForm(app, REP, alert);

    expect(modalText(form.view)).toContain('*To:* Yui Tanaka &lt;yui@robotics.example&gt;');
    expect(initialValues(form.view)).toEqual({
      [OneToOneBlockIds.fromName]: REP_NAME,
      [OneToOneBlockIds.replyTo]: REP_EMAIL,
      [OneToOneBlockIds.subject]: 'Pricing for Kojo Robotics',
      [OneToOneBlockIds.body]: 'Hi Yui,\n\nHere is **pricing** for Kojo Robotics: [plans](https://kojo.example/pricing).',
    });
    expect(JSON.parse(form.view.private_metadata!)).toEqual({ alertId: alert.id, leadId: lead.id });
  });

  it('offers a short built-in follow-up signed by the rep when the channel names no template', async () => {
    await setFollowUpTemplate(app, null);
    const lead = await newLead(app, { first_name: 'Ken', last_name: null, company: null });
    const alert = await postAlert(app, clock, lead.id);

    const form = await openEmailForm(app, REP, alert);

    const shown = initialValues(form.view);
    expect(modalText(form.view)).toContain(`*To:* Ken &lt;${lead.email}&gt;`);
    expect(shown[OneToOneBlockIds.subject]).toBe('Quick follow-up');
    expect(shown[OneToOneBlockIds.body]).toMatch(/^Hi Ken,\n\nThanks for taking a look at what we do\.\n\n/);
    expect(shown[OneToOneBlockIds.body]).toMatch(/\n\nBest,\nRita Sato$/);
    expect(shown[OneToOneBlockIds.replyTo]).toBe(REP_EMAIL);
  });

  it('sends the email as the rep edited it through the pipeline, once when submitted twice, and says so in the alert’s thread', async () => {
    await setFollowUpTemplate(app, null);
    const lead = await newLead(app, { email: 'yui@twice.example' });
    const alert = await postAlert(app, clock, lead.id);
    const form = await openEmailForm(app, REP, alert);
    const edits = {
      replyTo: 'rita.sato@kojo.example',
      subject: 'Your pricing question',
      body: 'Hi Yui,\n\nHappy to walk you through **Teams** pricing: [the plans](https://kojo.example/pricing).\n\nOur templates use {{ placeholders }} too.\n\nRita',
    };

    expect(ackedNotice(await submitEmailForm(app, REP, form, edits))).toContain('is on its way');
    // A double click on Send: the same form again.
    expect(ackedNotice(await submitEmailForm(app, REP, form, edits))).toContain('it goes out once');

    expect(await settledRowOf(app, lead.id)).toMatchObject({ state: 'accepted' });
    const emails = app.resend.byRecipient(lead.email);
    expect(emails).toHaveLength(1);
    const [email] = emails;
    expect(email!.from).toBe(`${REP_NAME} <news@test.example>`);
    expect(email!.replyTo).toEqual(['rita.sato@kojo.example']);
    expect(email!.subject).toBe('Your pricing question');
    expect(email!.html).toContain('<strong>Teams</strong>');
    expect(email!.text).toContain('Happy to walk you through Teams pricing');
    // The rep's words as written: braces are text, not merge fields.
    expect(email!.text).toContain('Our templates use {{ placeholders }} too.');
    // The workspace's footer and one-click unsubscribe, as on every email.
    expect(email!.text).toContain(POSTAL_ADDRESS);
    expect(email!.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(await oneToOneRows(lead.id)).toBe(1);

    const thread = await waitFor(() => app.slack.messages.filter((message) => message.threadTs === alert.messageTs).at(0), { description: 'a reply in the alert’s thread' });
    expect(thread.channel).toBe(alert.channelId);
    expect(thread.text).toBe(`<@${REP}> emailed Yui Tanaka 1:1: “Your pricing question”`);
    expect(app.slack.messages.filter((message) => message.threadTs === alert.messageTs)).toHaveLength(1);
    // Writing to an unclaimed lead claims it: the rep owns the lead, its nurture pauses, the alert says so.
    const [claimed] = await app.db.sql<{ status: string; decided_by: string; owner: string; held: number }[]>`
      SELECT a.status, a.decided_by, l.owner_user_id AS owner, (SELECT count(*)::int FROM lead_nurture_holds h WHERE h.lead_id = l.id) AS held
      FROM lead_alerts a JOIN leads l ON l.id = a.lead_id WHERE a.id = ${alert.id}`;
    expect(claimed).toEqual({ status: 'claimed', decided_by: REP, owner: REP, held: 1 });
    expect(JSON.stringify(app.slack.messages.find((message) => message.ts === alert.messageTs)?.blocks)).toContain(`Claimed by <@${REP}>`);
    // Logs say what happened, never what the email said.
    expect(JSON.stringify(app.logs)).not.toContain('Happy to walk you through');
  });

  it('logs the email on the lead card: who sent it, its subject, when, and that the lead opened it', async () => {
    const lead = await newLead(app, { email: 'yui@card.example' });
    const alert = await postAlert(app, clock, lead.id);
    await submitEmailForm(app, REP, await openEmailForm(app, REP, alert), { subject: 'About your trial' });
    await settledRowOf(app, lead.id);
    const [email] = app.resend.byRecipient(lead.email);
    expect((await hit(local(app, trackedUrls(email!.html!).pixel))).status).toBe(200);
    await waitFor(async () => (await app.db.sql`SELECT 1 FROM email_sends WHERE team_id = ${teamId} AND lead_id = ${lead.id} AND opened_at IS NOT NULL`).length > 0, {
      description: 'the open recorded on the ledger row',
    });

    const { reply } = await app.command(REP, `lead ${lead.email}`);

    const card = replyText(reply.body);
    expect(card).toContain('*1:1 emails*');
    expect(card).toMatch(new RegExp(`• <@${REP}> “About your trial” — just now · .*opened`));
  });

  it('reaches a lead already at the frequency cap, and counts toward it: a broadcast after it is capped', async () => {
    const lead = await newLead(app, { email: 'yui@capped.example' });
    const control = await newLead(app, { email: 'ken@capped.example' });
    // This morning's newsletter: both are at the cap of one a day.
    const thisMorning = new Date(clock.now().getTime() - 2 * 3600_000);
    for (const { id } of [lead, control]) await insertSend(app.db.sql, teamId, id, { sourceId: 900, sentAt: thisMorning });

    const alert = await postAlert(app, clock, lead.id);
    await submitEmailForm(app, REP, await openEmailForm(app, REP, alert));
    expect(await settledRowOf(app, lead.id)).toMatchObject({ state: 'accepted', sent_at: clock.now() });
    expect(app.resend.byRecipient(lead.email)).toHaveLength(1);

    // 23 hours on, this morning's newsletter has left the 24 hours; the 1:1 email has not.
    clock.advance({ hours: 23 });
    const broadcast = await broadcastTo(app, 901, [lead.id, control.id]);
    expect(broadcast.get(lead.id)).toEqual({ state: 'capped', reason: 'frequency cap: 1 in the last 24 hours (cap 1)' });
    expect(broadcast.get(control.id)).toMatchObject({ state: 'accepted' });
  });

  it('offers no form for a lead who unsubscribed: it says no email can go', async () => {
    const lead = await newLead(app, { email: 'gone@robotics.example', status: 'unsubscribed' });
    const alert = await postAlert(app, clock, lead.id);

    const form = await openEmailForm(app, REP, alert);

    expect(form.view.submit).toBeUndefined();
    expect(form.view.blocks.filter((block) => block.type === 'input')).toEqual([]);
    expect(modalText(form.view)).toContain('*Yui Tanaka &lt;gone@robotics.example&gt;* unsubscribed, so no email can go to them');
  });

  it('shows a bad reply-to beside its field and sends nothing', async () => {
    const lead = await newLead(app, { email: 'yui@typo.example' });
    const alert = await postAlert(app, clock, lead.id);

    const ack = await submitEmailForm(app, REP, await openEmailForm(app, REP, alert), { replyTo: 'rita at kojo' });

    expect(ack).toEqual({ response_action: 'errors', errors: { [OneToOneBlockIds.replyTo]: 'Give the address replies go to, e.g. rita@yourcompany.com.' } });
    expect(await oneToOneRows(lead.id)).toBe(0);
  });

  it('tells the rep by DM when the email could not be sent, and why', async () => {
    const lead = await newLead(app, { email: 'nobody@refused.example' });
    app.resend.rejectRecipient(lead.email);
    const alert = await postAlert(app, clock, lead.id);
    await submitEmailForm(app, REP, await openEmailForm(app, REP, alert), { subject: 'Hello there' });

    expect(await settledRowOf(app, lead.id)).toMatchObject({ state: 'failed' });
    const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === REP && String(call.args.text).includes('could not be sent'));
    expect(dm.args.text).toMatch(/^:x: Your 1:1 email to \*Yui Tanaka\* \(“Hello there”\) could not be sent: .+/);
  });

  it('refuses, privately, someone who is neither rep, marketer nor admin', async () => {
    const lead = await newLead(app, { email: 'yui@private.example' });
    const alert = await postAlert(app, clock, lead.id);
    const triggerId = app.slack.newTriggerId();
    const responseUrl = app.slack.responseUrl();

    await app.interaction(emailButtonClick(app, OUTSIDER, alert, triggerId, responseUrl));

    const refusal = await app.slack.waitForResponse((response) => response.url === responseUrl);
    expect(refusal.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(refusal.body.text)).toContain('Emailing a lead 1:1 needs one of these roles: *rep*, *marketer*');
    expect(app.slack.callsTo('views.open').filter((call) => call.args.trigger_id === triggerId)).toEqual([]);
  });
});
