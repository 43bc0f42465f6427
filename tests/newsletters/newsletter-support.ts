import { expect } from 'vitest';
import type { NewsletterRow } from '../../src/modules/newsletters/newsletter.ts';
import { NewsletterBlockIds, WHEN_LATER, WHEN_NOW } from '../../src/modules/newsletters/build-newsletter-modal.ts';
import { insertSegment } from '../../src/modules/segments/queries.ts';
import type { Rule } from '../../src/modules/segments/rule.ts';
import { insertTemplate } from '../../src/modules/templates/queries.ts';
import type { TemplateContent } from '../../src/modules/templates/template.ts';
import { updateWorkspaceSettings, type WorkspaceSettingsChange } from '../../src/modules/workspaces/settings.ts';
import type { Args, StoredMessage } from '../support/fake-slack.ts';
import { actOnMessage } from '../support/act-on-message.ts';
import { replyText } from '../support/slack-replies.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

export const OWNER = 'U0OWNER';
export const MARKETER = 'U0MARI';
export const SECOND_MARKETER = 'U0MOTO';
export const REP = 'U0RITA';
export const CHANNEL = 'C0NEWSLETTERS';
export const QUIET_CHANNEL = 'C0QUIETROOM';

/** Roles, people with Slack addresses, a channel the bot is in and one it is not, and a postal address. */
export async function setUpWorkspace(app: TestApp, settings: WorkspaceSettingsChange = {}): Promise<void> {
  app.addUser({ id: OWNER, name: 'olga', isOwner: true, email: 'olga@kojo.example' });
  app.addUser({ id: MARKETER, name: 'mari', email: 'mari@kojo.example' });
  app.addUser({ id: SECOND_MARKETER, name: 'moto', email: 'moto@kojo.example' });
  app.addUser({ id: REP, name: 'rita', email: 'rita@kojo.example' });
  app.slack.addChannel({ id: CHANNEL, name: 'newsletters' });
  app.slack.addChannel({ id: QUIET_CHANNEL, name: 'quiet', isMember: false });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
  await app.command(OWNER, `roles add <@${SECOND_MARKETER}|moto> marketer`);
  await app.command(OWNER, `roles add <@${REP}|rita> rep`);
  await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { senderName: 'Kojo Marketing', postalAddress: '1-2-3 Marunouchi, Tokyo 100-0005', ...settings });
}

export const NEWS_TEMPLATE: TemplateContent = {
  name: 'Autumn line',
  stage: 'decision',
  subject: 'News for {{ first_name | default: "you" }}',
  preheader: 'Our autumn line is here',
  body: 'Hi {{ first_name | default: "there" }},\n\nOur autumn line for {{ company | default: "your team" }} is here.\n\nSee you soon.',
};

export async function createTemplate(app: TestApp, content: TemplateContent = NEWS_TEMPLATE): Promise<number> {
  const row = await insertTemplate(app.db.sql, app.slack.teamId, MARKETER, content);
  return row!.id;
}

export async function createSegment(app: TestApp, name: string, rule: Rule = { type: 'all', rules: [] }): Promise<number> {
  const row = await insertSegment(app.db.sql, { teamId: app.slack.teamId, name, rule, includeSuppressed: false, userId: MARKETER });
  return row!.id;
}

export interface PlanRequest {
  templateId: number;
  segmentId: number;
  /** Omitted: now. */
  later?: { date: string; time: string };
  channelId?: string;
}

/** `/nurture newsletter new` as the person in the channel; resolves with the form's view id. */
export async function openPlanForm(app: TestApp, userId: string, channelId = CHANNEL): Promise<string> {
  const triggerId = app.slack.newTriggerId();
  const result = await app.requests.command({ teamId: app.slack.teamId, userId, channelId, text: 'newsletter new', responseUrl: app.slack.responseUrl(), triggerId });
  expect(result.status).toBe(200);
  const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
  return (opened.response.view as { id: string }).id;
}

/** The form filled in and submitted by the person; resolves with the submission's ack. */
export async function submitPlanForm(app: TestApp, viewId: string, userId: string, request: PlanRequest): Promise<Args> {
  return (await app.interaction(
    app.slack.viewSubmission({
      viewId,
      userId,
      values: {
        [NewsletterBlockIds.template]: String(request.templateId),
        [NewsletterBlockIds.segment]: String(request.segmentId),
        [NewsletterBlockIds.when]: request.later ? WHEN_LATER : WHEN_NOW,
        ...(request.later ? { [NewsletterBlockIds.date]: request.later.date, [NewsletterBlockIds.time]: request.later.time } : {}),
      },
    }),
  )) as Args;
}

/** `/nurture newsletter new` as the person, and the form submitted; resolves with the submission's ack. */
export async function submitPlan(app: TestApp, userId: string, request: PlanRequest): Promise<{ ack: Args; viewId: string }> {
  const viewId = await openPlanForm(app, userId, request.channelId);
  return { ack: await submitPlanForm(app, viewId, userId, request), viewId };
}

/** Plans a newsletter and resolves once its card is in the channel. */
export async function planNewsletter(app: TestApp, userId: string, request: PlanRequest): Promise<{ newsletter: NewsletterRow; card: StoredMessage }> {
  const { ack, viewId } = await submitPlan(app, userId, request);
  expect(ack).toMatchObject({ response_action: 'update' });
  const done = await app.slack.waitForCall('views.update', (call) => call.args.view_id === viewId && JSON.stringify(call.args.view).includes('send plan for newsletter'));
  const id = Number(/newsletter #(\d+)/.exec(JSON.stringify(done.args.view))![1]);
  const newsletter = await findRow(app, id);
  const card = cardOf(app, newsletter)!;
  expect(card).toBeDefined();
  return { newsletter, card };
}

export async function findRow(app: TestApp, id: number): Promise<NewsletterRow> {
  const [row] = await app.db.sql<NewsletterRow[]>`SELECT * FROM newsletters WHERE id = ${id}`;
  return row!;
}

/** The card as the channel shows it now. */
export const cardOf = (app: TestApp, newsletter: Pick<NewsletterRow, 'channel_id' | 'message_ts'>) =>
  app.slack.messages.find((message) => message.channel === newsletter.channel_id && message.ts === newsletter.message_ts);

export const cardText = (app: TestApp, newsletter: Pick<NewsletterRow, 'channel_id' | 'message_ts'>) => {
  const card = cardOf(app, newsletter);
  return card ? replyText(card) : '';
};

export const cardButtons = (app: TestApp, newsletter: Pick<NewsletterRow, 'channel_id' | 'message_ts'>) =>
  ((cardOf(app, newsletter)?.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string }> }>)
    .filter((block) => block.type === 'actions')
    .flatMap((block) => block.elements ?? [])
    .map((element) => element.action_id);

/** Waits until the card says `text`. */
export const waitForCard = (app: TestApp, newsletter: Pick<NewsletterRow, 'channel_id' | 'message_ts'>, text: string | RegExp, timeoutMs = 10_000) =>
  waitFor(() => (typeof text === 'string' ? cardText(app, newsletter).includes(text) : text.test(cardText(app, newsletter))), {
    timeoutMs,
    description: `the card to say ${String(text)} (it says: ${cardText(app, newsletter).slice(-400)})`,
  });

/**
 * A person clicks a button on the card (a channel message): resolves with what only they were told (an
 * ephemeral reply), or undefined when the click was taken (the card changes for everyone).
 */
export const clickCard = (app: TestApp, userId: string, actionId: string, newsletter: Pick<NewsletterRow, 'id' | 'channel_id' | 'message_ts'>): Promise<string | undefined> =>
  actOnMessage(app, userId, { channel: newsletter.channel_id, ts: newsletter.message_ts! }, { actionId, blockId: `newsletter_actions_${newsletter.id}`, value: String(newsletter.id) });

export const auditActions = async (app: TestApp, newsletterId: number) =>
  (await app.db.sql<{ action: string; actor_user_id: string }[]>`
    SELECT action, actor_user_id FROM audit_log WHERE subject = ${String(newsletterId)} AND action LIKE 'newsletter.%' ORDER BY id`).map((row) => `${row.action} by ${row.actor_user_id}`);

/** Leads written in one statement, `count` of them, on example.com addresses with a common prefix. */
export async function insertManyLeads(app: TestApp, prefix: string, count: number, fields: { industry?: string; stage?: string } = {}): Promise<void> {
  await app.db.sql`
    INSERT INTO leads (team_id, email, first_name, industry, stage)
    SELECT ${app.slack.teamId}, ${prefix} || '-' || n || '@example.com', 'Lead' || n, ${fields.industry ?? 'manufacturing'}, ${fields.stage ?? 'awareness'}
    FROM generate_series(1, ${count}) AS n`;
}

/** Tomorrow's date in the zone (YYYY-MM-DD). */
export function dayInZone(timeZone: string, offsetDays: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(Date.now() + offsetDays * 86_400_000));
}
