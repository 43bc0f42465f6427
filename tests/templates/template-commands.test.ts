import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noSlackEmailText, noPostalAddressWarning, POSTAL_ADDRESS_MISSING_FOOTER } from '../../src/modules/templates/send-test-email.ts';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { ActionIds, CallbackIds } from '../../src/slack/ids.ts';
import type { Args } from '../support/fake-slack.ts';
import { insertLead } from '../support/factories.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
const OWNER = 'U0OWNER';
const MARKETER = 'U0MARK';
const REP = 'U0REP';
const NOBODY = 'U0NOBODY';
const NO_EMAIL = 'U0NOMAIL';
const MARKETER_EMAIL = 'mari@acme.example';
let leadId: number;

type View = Args & { id: string; callback_id: string; blocks: Array<Args & { block_id?: string; element?: Args }> };
type Block = { type: string; text?: { type: string; text: string }; elements?: Array<{ action_id?: string; value?: string }> };

const say = async (userId: string, text: string) => replyText((await app.command(userId, text)).reply.body);

beforeAll(async () => {
  app = await startTestApp();
  app.addUser({ id: OWNER, isOwner: true, email: 'owner@acme.example' });
  app.addUser({ id: MARKETER, name: 'mari', email: MARKETER_EMAIL });
  app.addUser({ id: REP, name: 'ren', email: 'ren@acme.example' });
  app.addUser({ id: NOBODY, name: 'nobu', email: 'nobu@acme.example' });
  app.addUser({ id: NO_EMAIL, name: 'nomail' });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
  await app.command(OWNER, `roles add <@${REP}|ren> rep`);
  await app.command(OWNER, `roles add <@${NO_EMAIL}|nomail> marketer`);
  ({ id: leadId } = await insertLead(app.db.sql, app.slack.teamId, {
    email: 'hana@kojo.example',
    first_name: 'Hana',
    last_name: 'Sato',
    company: 'Kojo <!here> & *Sons*',
    title: 'VP Operations',
    industry: 'manufacturing',
    stage: 'consideration',
    attributes: { plan: 'enterprise' },
  }));
});
afterAll(() => app.stop());

/** `/nurture template <text>` that opens the editor; resolves with the view Slack shows. */
async function openEditor(userId: string, text: string): Promise<View> {
  const triggerId = app.slack.newTriggerId();
  const result = await app.requests.command({ teamId: app.slack.teamId, userId, channelId: 'C0GENERAL', text, responseUrl: app.slack.responseUrl(), triggerId });
  expect(result.status).toBe(200);
  const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
  const view = opened.response.view as View;
  expect(view.callback_id).toBe(CallbackIds.templateEditor);
  return view;
}

const WELCOME = {
  template_name: 'Welcome',
  template_stage: 'awareness',
  template_subject: '{{ first_name | default: "Hi" }}, planning at {{ company | default: "your plant" }}',
  template_preheader: 'Three ideas for {{ industry | default: "your team" }}',
  template_body: [
    '# Hello {{ first_name | default: "there" }}',
    '',
    'We help **{{ company }}** plan production, on the {{ attributes.plan | default: "free" }} plan.',
    '',
    '- [Book a call](https://acme.example/call)',
  ].join('\n'),
};

async function submit(view: View, userId: string, values: Record<string, string>): Promise<unknown> {
  return app.interaction(app.slack.viewSubmission({ viewId: view.id, userId, values }));
}

async function auditActions(action: string) {
  return app.db.sql<{ actor_user_id: string; subject: string; details: Record<string, unknown> }[]>`
    SELECT actor_user_id, subject, details FROM audit_log WHERE team_id = ${app.slack.teamId} AND action = ${action} ORDER BY id`;
}

/** The preview's "Send me a test" button value. */
function sendTestValue(body: Args): string {
  const actions = (body.blocks as Block[]).find((block) => block.type === 'actions');
  const button = actions?.elements?.find((element) => element.action_id === ActionIds.templateSendTest);
  expect(button?.value).toBeDefined();
  return button!.value!;
}

describe('/nurture template new and edit', () => {
  it('creates a template from the form, records it in the audit log and confirms by DM', async () => {
    const view = await openEditor(MARKETER, 'template new');
    expect(view.title).toMatchObject({ text: 'New template' });
    expect(await submit(view, MARKETER, WELCOME)).toBe('');

    const [row] = await app.db.sql`SELECT name, stage, subject, preheader, body, created_by, updated_by FROM templates WHERE team_id = ${app.slack.teamId}`;
    expect(row).toEqual({
      name: 'Welcome',
      stage: 'awareness',
      subject: WELCOME.template_subject,
      preheader: WELCOME.template_preheader,
      body: WELCOME.template_body,
      created_by: MARKETER,
      updated_by: MARKETER,
    });
    expect(await auditActions('template.created')).toEqual([expect.objectContaining({ actor_user_id: MARKETER, details: { name: 'Welcome', stage: 'awareness' } })]);
    const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === MARKETER && String(call.args.text).includes('Welcome'));
    expect(dm.args.text).toBe(':white_check_mark: Saved the new template *Welcome* (awareness). Preview it with `/nurture template show Welcome`.');
  });

  it('puts each problem under its field with the line and the reason, and saves nothing', async () => {
    const view = await openEditor(MARKETER, 'template new "Broken one"');
    expect(view.blocks[0]?.element).toMatchObject({ initial_value: 'Broken one' });
    const ack = await submit(view, MARKETER, {
      template_name: 'Broken one',
      template_stage: 'decision',
      template_subject: 'Hi {{ frist_name }}',
      template_body: 'Hello\n\n{% if company %}\nWe love {{ company | shout }}',
    });
    expect(ack).toEqual({
      response_action: 'errors',
      errors: {
        template_subject: 'Line 1: there is no merge field "frist_name"; use first_name, last_name, full_name, email, company, title, industry, stage, attributes.<name>.',
        template_body: 'Line 4: there is no filter called "shout".',
      },
    });
    const fixedFilter = await submit(view, MARKETER, { template_name: 'Broken one', template_stage: 'decision', template_subject: 'Hi', template_body: 'Hello\n\n{% if company %}\nWe love {{ company }}' });
    expect(fixedFilter).toEqual({ response_action: 'errors', errors: { template_body: 'Line 3: tag {% if company %} not closed.' } });
    expect(await app.db.sql`SELECT id FROM templates WHERE name = 'Broken one'`).toHaveLength(0);
  });

  it('refuses a name another template has, whatever its case', async () => {
    const view = await openEditor(MARKETER, 'template new');
    expect(await submit(view, MARKETER, { ...WELCOME, template_name: 'WELCOME' })).toEqual({
      response_action: 'errors',
      errors: { template_name: 'There is already a template called "WELCOME". Pick another name, or change that one with `/nurture template edit WELCOME`.' },
    });
    expect(await app.db.sql`SELECT id FROM templates WHERE team_id = ${app.slack.teamId}`).toHaveLength(1);
  });

  it('edits a template in the same form, filled in, and records the change', async () => {
    const view = await openEditor(MARKETER, 'template edit welcome');
    expect(view.title).toMatchObject({ text: 'Edit template' });
    const initial = Object.fromEntries(view.blocks.map((block) => [block.block_id, block.element?.initial_value ?? (block.element?.initial_option as { value?: string } | undefined)?.value]));
    expect(initial).toEqual(WELCOME);

    // Another template's name is refused on edit too.
    const other = await openEditor(MARKETER, 'template new');
    expect(await submit(other, MARKETER, { ...WELCOME, template_name: 'Pricing follow-up', template_stage: 'decision' })).toBe('');
    expect(await submit(view, MARKETER, { ...WELCOME, template_name: 'pricing follow-up' })).toMatchObject({ response_action: 'errors', errors: { template_name: expect.stringContaining('already a template') } });

    expect(await submit(view, OWNER, { ...WELCOME, template_stage: 'consideration', template_subject: 'A plan for {{ company | default: "you" }}' })).toBe('');
    const [row] = await app.db.sql`SELECT stage, subject, created_by, updated_by FROM templates WHERE name = 'Welcome'`;
    expect(row).toEqual({ stage: 'consideration', subject: 'A plan for {{ company | default: "you" }}', created_by: MARKETER, updated_by: OWNER });
    expect(await auditActions('template.changed')).toEqual([expect.objectContaining({ actor_user_id: OWNER, details: { name: 'Welcome', stage: 'consideration' } })]);
  });

  it('refuses people without the marketer role, and says how to get it', async () => {
    expect(await say(NOBODY, 'template new')).toBe('Writing templates needs one of these roles: *marketer*. Ask a Slack workspace owner or admin to grant it: `/nurture roles add @you marketer`.');
    expect(await say(REP, 'template edit Welcome')).toContain('Changing templates needs one of these roles: *marketer*.');
    expect(app.slack.callsTo('views.open').filter((call) => call.args.user_id === NOBODY)).toHaveLength(0);
  });
});

describe('/nurture template list and show', () => {
  it('lists every template with its stage, subject and last edit, for anyone', async () => {
    const text = await say(NOBODY, 'template list');
    expect(text).toContain('*Templates* (2) — name · stage · subject');
    expect(text).toContain('• *Pricing follow-up* · decision · “{{ first_name | default: "Hi" }}, planning at {{ company | default: "your plant" }}”');
    expect(text).toMatch(/• \*Welcome\* · consideration · “A plan for \{\{ company \| default: "you" \}\}”\n {6}_edited by <@U0OWNER> <!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^>]+>_/);
  });

  it('previews for a lead: subject, preheader and the text part with that lead’s data, escaped for Slack', async () => {
    const { reply } = await app.command(MARKETER, 'template show Welcome <mailto:hana@kojo.example|hana@kojo.example>');
    const text = replyText(reply.body);
    expect(text).toContain(':mag: *Welcome* (consideration) as the lead *hana@kojo.example* would get it.');
    expect(text).toContain('*Subject:* A plan for Kojo &lt;!here&gt; &amp; *Sons*');
    expect(text).toContain('*Preheader:* Three ideas for manufacturing');
    const part = (reply.body.blocks as Block[]).find((block) => block.text?.type === 'plain_text')!.text!.text;
    expect(part).toContain('Hello Hana\n\nWe help Kojo <!here> & *Sons* plan production, on the enterprise plan.\n\n- Book a call (https://acme.example/call)');
    expect(part).toContain(`-- \nNurture Test\n${POSTAL_ADDRESS_MISSING_FOOTER}\nUnsubscribe: (each person’s own unsubscribe link)`);
    expect(text).toContain('Slack cannot show the HTML one');
    expect(text).toContain(':warning: No postal address is set yet');
    expect(JSON.parse(sendTestValue(reply.body))).toEqual({ templateId: expect.any(Number), leadId });

    expect(await say(MARKETER, 'template show Welcome nobody@kojo.example')).toBe('There is no lead with the address nobody@kojo.example. Leave it out to preview for a sample person.');
    expect(await say(NOBODY, 'template show Welcome hana@kojo.example')).toContain('Previewing a template for a lead needs one of these roles: *marketer*, *rep*.');
  });

  it('previews for a clearly labelled sample person when no lead is named, for anyone', async () => {
    const { reply } = await app.command(NOBODY, 'template show "Pricing follow-up"');
    const text = replyText(reply.body);
    expect(text).toContain(
      ':mag: *Pricing follow-up* (decision) as the sample person *Yui Tanaka* (VP Operations, Kojo Manufacturing) would get it. _A made-up person, not one of your leads: add a lead’s email to preview for them._',
    );
    expect(text).toContain('*Subject:* Yui, planning at Kojo Manufacturing');
    expect(JSON.parse(sendTestValue(reply.body))).toEqual({ templateId: expect.any(Number) });
    expect(await say(NOBODY, 'template show Nope')).toBe('There is no template called "Nope". `/nurture template list` shows them.');
  });

  it('clips a long text part to Slack’s section limit and says so', async () => {
    const view = await openEditor(MARKETER, 'template new');
    const paragraph = `${'Long words about planning. '.repeat(20)}\n\n`;
    expect(await submit(view, MARKETER, { template_name: 'Long read', template_stage: 'awareness', template_subject: 'Long', template_body: paragraph.repeat(6).slice(0, 2990) })).toBe('');
    // The footer pushes the text part past the limit.
    const { reply } = await app.command(MARKETER, 'template show "Long read"');
    const part = (reply.body.blocks as Block[]).find((block) => block.text?.type === 'plain_text')!.text!.text;
    expect(part.length).toBeLessThanOrEqual(3000);
    expect(part.endsWith('…')).toBe(true);
    expect(replyText(reply.body)).toMatch(/The preview stops at 2,900 characters; the email has 3,\d{3}\./);
  });
});

describe('"Send me a test"', () => {
  it('sends the sample render to the clicking person’s Slack address, with [Test] and the footer, and says the postal address is missing', async () => {
    const { reply } = await app.command(MARKETER, 'template show "Pricing follow-up"');
    const answer = await app.clickMessageButton(MARKETER, { actionId: ActionIds.templateSendTest, value: sendTestValue(reply.body), text: 'Send me a test' });
    expect(replyText(answer.body)).toBe(`:email: Sent a test of *Pricing follow-up* to ${MARKETER_EMAIL}.\n${noPostalAddressWarning}`);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });

    const [email] = await app.resend.waitForEmails((candidate) => candidate.to.includes(MARKETER_EMAIL));
    expect(email!.subject).toBe('[Test] Yui, planning at Kojo Manufacturing');
    expect(email!.from).toBe('Nurture Test <news@test.example>');
    expect(email!.html).toContain('<strong>Kojo Manufacturing</strong>');
    expect(email!.html).toContain(`Nurture Test<br>${POSTAL_ADDRESS_MISSING_FOOTER}`);
    expect(email!.html).toContain('href="https://nurture.test/u/test"');
    expect(email!.text).toContain(`-- \nNurture Test\n${POSTAL_ADDRESS_MISSING_FOOTER}\nUnsubscribe: https://nurture.test/u/test\n`);
    // A test carries no one-click unsubscribe header: the tester's mail client must not unsubscribe anyone.
    expect(email!.headers?.['List-Unsubscribe']).toBeUndefined();
    expect(await auditActions('template.test_sent')).toEqual([
      expect.objectContaining({ actor_user_id: MARKETER, subject: 'Pricing follow-up', details: expect.objectContaining({ sample: true, lead_id: null, provider_id: email!.id }) }),
    ]);

    // The sample's unsubscribe link unsubscribes nobody: the route answers its "link not valid" page.
    const page = await fetch(`${app.url}/u/test`);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('This unsubscribe link is not valid');
  });

  it('renders for the previewed lead, with the workspace’s sender and address, and the lead’s own unsubscribe page', async () => {
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { senderName: 'Acme, Planning', postalAddress: '1-2-3 Umeda, Osaka 530-0001, Japan' });
    const { reply } = await app.command(OWNER, 'template show Welcome hana@kojo.example');
    const answer = await app.clickMessageButton(OWNER, { actionId: ActionIds.templateSendTest, value: sendTestValue(reply.body) });
    expect(replyText(answer.body)).toBe(':email: Sent a test of *Welcome* to owner@acme.example.');

    const [email] = await app.resend.waitForEmails((candidate) => candidate.to.includes('owner@acme.example'));
    expect(email!.subject).toBe('[Test] A plan for Kojo <!here> & *Sons*');
    expect(email!.from).toBe('"Acme, Planning" <news@test.example>');
    expect(email!.html).toContain('<strong>Kojo &lt;!here&gt; &amp; *Sons*</strong>');
    expect(email!.html).toContain('Acme, Planning<br>1-2-3 Umeda, Osaka 530-0001, Japan');
    const unsubscribe = /Unsubscribe: (\S+)\n$/.exec(email!.text!)?.[1];
    expect(unsubscribe).toMatch(/^https:\/\/nurture\.test\/u\/[^/]+$/);
    expect(unsubscribe).not.toBe('https://nurture.test/u/test');
    // The lead's real page, which asks before anything changes.
    const page = await fetch(unsubscribe!.replace('https://nurture.test', app.url));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('h•••@kojo.example');
    const [lead] = await app.db.sql`SELECT status FROM leads WHERE id = ${leadId}`;
    expect(lead).toEqual({ status: 'subscribed' });
    expect(await auditActions('template.test_sent')).toContainEqual(expect.objectContaining({ actor_user_id: OWNER, subject: 'Welcome', details: expect.objectContaining({ sample: false, lead_id: leadId }) }));
  });

  it('refuses someone without the role, and someone whose Slack profile has no address, sending nothing', async () => {
    const { reply } = await app.command(NOBODY, 'template show Welcome');
    const sentBefore = app.resend.emails.length;
    const refused = await app.clickMessageButton(NOBODY, { actionId: ActionIds.templateSendTest, value: sendTestValue(reply.body) });
    expect(replyText(refused.body)).toBe(
      'Sending test emails needs one of these roles: *marketer*. Ask a Slack workspace owner or admin to grant it: `/nurture roles add @you marketer`.',
    );
    const noAddress = await app.clickMessageButton(NO_EMAIL, { actionId: ActionIds.templateSendTest, value: sendTestValue(reply.body) });
    expect(replyText(noAddress.body)).toBe(noSlackEmailText);
    expect(app.resend.emails.length).toBe(sentBefore);
  });

  it('answers a button whose template is gone', async () => {
    const answer = await app.clickMessageButton(MARKETER, { actionId: ActionIds.templateSendTest, value: JSON.stringify({ templateId: 999_999 }) });
    expect(replyText(answer.body)).toBe('That button is no longer valid: the template or the lead is gone. `/nurture template list` shows the templates there are.');
  });
});
