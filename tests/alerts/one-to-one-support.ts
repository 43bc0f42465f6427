import { expect } from 'vitest';
import { DEFAULT_ALERT_CHANNEL_SETTINGS } from '../../src/modules/alerts/alert-channel.ts';
import { saveAlertChannel } from '../../src/modules/alerts/queries.ts';
import type { EmailSourceKind, SourceContent } from '../../src/modules/delivery/email-source.ts';
import { EMAIL_SOURCES } from '../../src/modules/delivery/email-sources.ts';
import { addRecipients, leadIdsAudience } from '../../src/modules/delivery/ledger-queries.ts';
import { enqueueChunks } from '../../src/modules/delivery/send-chunk-queue.ts';
import { OneToOneBlockIds } from '../../src/modules/one-to-one/build-one-to-one-modal.ts';
import { compileTemplate } from '../../src/modules/templates/compile-template.ts';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { ActionIds } from '../../src/slack/ids.ts';
import { insertLead } from '../support/factories.ts';
import type { Args, RecordedCall } from '../support/fake-slack.ts';
import type { ManualClock } from '../support/manual-clock.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

export const OWNER = 'U0OWNER';
export const REP = 'U0RITA';
export const OUTSIDER = 'U0OTTO';
export const HOT_CHANNEL = 'C0HOTLEADS';
export const REP_NAME = 'Rita Sato';
export const REP_EMAIL = 'rita@kojo.example';
export const POSTAL_ADDRESS = '1-2-3 Marunouchi, Tokyo 100-0005';

/**
 * Newsletters stand-in: a broadcast that skips capped leads, like the real one, without its plan and
 * approval. Its rows go through the real send-chunk job, where the frequency cap is decided.
 */
const broadcast = compileTemplate({ name: 'Broadcast', stage: 'awareness', subject: 'Our news', preheader: '', body: 'News for {{ first_name | default: "you" }}.' });
const broadcastContent: SourceContent = {
  capPolicy: 'skip',
  template: () => broadcast,
  senderName: 'Kojo Marketing',
  postalAddress: POSTAL_ADDRESS,
};
const broadcastSource: EmailSourceKind = {
  kind: 'newsletter',
  prepare: async () => ({ action: 'send', ...broadcastContent }),
  chunkSettled: async () => undefined,
  pause: async () => undefined,
  labels: async () => ({ message: 'Broadcast' }),
};

/**
 * The whole app on the test's clock with a rep, an owner (admin), someone without a role, a channel of
 * alerts, a postal address and a cap of one marketing email a day. Every kind of email is the real one
 * but newsletters (broadcastSource).
 */
export async function startOneToOneApp(clock: ManualClock): Promise<TestApp> {
  const app = await startTestApp({ clock, emailSources: new Map([...EMAIL_SOURCES, ['newsletter', broadcastSource]]) });
  app.addUser({ id: OWNER, name: 'olga', isOwner: true, email: 'olga@kojo.example' });
  app.addUser({ id: REP, name: 'rita', realName: REP_NAME, email: REP_EMAIL });
  app.addUser({ id: OUTSIDER, name: 'otto', email: 'otto@kojo.example' });
  app.slack.addChannel({ id: HOT_CHANNEL, name: 'hot-leads' });
  await app.command(OWNER, `roles add <@${REP}|rita> rep`);
  await updateWorkspaceSettings(app.db.sql, app.slack.teamId, { senderName: 'Kojo Marketing', postalAddress: POSTAL_ADDRESS, capPerDay: 1, capPerWeek: 3 });
  return app;
}

export async function newLead(app: TestApp, fields: Record<string, unknown> = {}): Promise<{ id: number; email: string }> {
  return insertLead(app.db.sql, app.slack.teamId, { first_name: 'Yui', last_name: 'Tanaka', company: 'Kojo Robotics', ...fields });
}

/** The channel's alert settings, naming the template that prefills Email 1:1 (null: the built-in follow-up). */
export async function setFollowUpTemplate(app: TestApp, templateId: number | null, channelId = HOT_CHANNEL): Promise<void> {
  await saveAlertChannel(app.db.sql, app.slack.teamId, channelId, { ...DEFAULT_ALERT_CHANNEL_SETTINGS, followUpTemplateId: templateId }, OWNER);
}

export interface PostedAlert {
  id: number;
  channelId: string;
  messageTs: string;
}

/** An alert about the lead, posted in the channel: a message from the bot, and its row pointing at it. */
export async function postAlert(app: TestApp, clock: ManualClock, leadId: number, channelId = HOT_CHANNEL): Promise<PostedAlert> {
  const posted = await app.nurture.services.slack.chat.postMessage({ channel: channelId, text: 'Hot lead' });
  const now = clock.now();
  // Already reminded: the alerts sweep leaves it alone.
  const [row] = await app.db.sql<{ id: number }[]>`
    INSERT INTO lead_alerts (team_id, lead_id, channel_id, score, threshold, reasons, status, raised_at, post_after, posted_at, message_ts, reminded_at)
    VALUES (${app.slack.teamId}, ${leadId}, ${channelId}, 72, 50, '[]', 'posted', ${now}, ${now}, ${now}, ${posted.ts!}, ${now})
    RETURNING id`;
  return { id: row!.id, channelId, messageTs: posted.ts! };
}

/** The block_actions payload of a person clicking Email 1:1 on the alert's message in the channel. */
export function emailButtonClick(app: TestApp, userId: string, alert: PostedAlert, triggerId: string, responseUrl: string): Args {
  return {
    type: 'block_actions',
    user: { id: userId, team_id: app.slack.teamId },
    team: { id: app.slack.teamId, domain: app.slack.teamDomain },
    api_app_id: app.slack.appId,
    trigger_id: triggerId,
    response_url: responseUrl,
    container: { type: 'message', message_ts: alert.messageTs, channel_id: alert.channelId, is_ephemeral: false },
    channel: { id: alert.channelId, name: 'hot-leads' },
    message: { type: 'message', ts: alert.messageTs, text: 'Hot lead' },
    actions: [{ type: 'button', action_id: ActionIds.alertEmail, block_id: 'alert_actions', value: String(alert.id), action_ts: '1.1', text: { type: 'plain_text', text: 'Email 1:1' } }],
  };
}

/** The person clicks Email 1:1; resolves with the modal Slack opened (views.open with the click's trigger id). */
export async function openEmailForm(app: TestApp, userId: string, alert: PostedAlert): Promise<{ viewId: string; view: ModalArgs }> {
  const triggerId = app.slack.newTriggerId();
  await app.interaction(emailButtonClick(app, userId, alert, triggerId, app.slack.responseUrl()));
  const opened: RecordedCall = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
  return { viewId: (opened.response.view as { id: string }).id, view: opened.args.view as ModalArgs };
}

export interface ModalArgs extends Args {
  blocks: Array<{ type: string; block_id?: string; text?: { text: string }; elements?: Array<{ text?: string }>; element?: { type: string; initial_value?: string } }>;
  private_metadata?: string;
  submit?: unknown;
}

/** What each input of the form shows before the person types, by block id. */
export const initialValues = (view: ModalArgs): Record<string, string | undefined> =>
  Object.fromEntries(view.blocks.filter((block) => block.type === 'input').map((block) => [block.block_id!, block.element?.initial_value]));

/** Every text the modal shows outside its inputs. */
export const modalText = (view: ModalArgs): string =>
  view.blocks.flatMap((block) => [block.text?.text ?? '', ...(block.elements ?? []).map((element) => element.text ?? '')]).join('\n');

export interface EmailEdits {
  fromName?: string;
  replyTo?: string;
  subject?: string;
  body?: string;
}

/** Sends the open form with these values (what it shows, unless edited); resolves with the submission's ack. */
export async function submitEmailForm(app: TestApp, userId: string, form: { viewId: string; view: ModalArgs }, edits: EmailEdits = {}): Promise<Args> {
  const shown = initialValues(form.view);
  const value = (blockId: string, edited: string | undefined) => edited ?? shown[blockId] ?? null;
  return (await app.interaction(
    app.slack.viewSubmission({
      viewId: form.viewId,
      userId,
      values: {
        [OneToOneBlockIds.fromName]: value(OneToOneBlockIds.fromName, edits.fromName),
        [OneToOneBlockIds.replyTo]: value(OneToOneBlockIds.replyTo, edits.replyTo),
        [OneToOneBlockIds.subject]: value(OneToOneBlockIds.subject, edits.subject),
        [OneToOneBlockIds.body]: value(OneToOneBlockIds.body, edits.body),
      },
    }),
  )) as Args;
}

/** The text of the view an ack shows instead of the form (`response_action: 'update'`). */
export function ackedNotice(ack: Args): string {
  expect(ack).toMatchObject({ response_action: 'update' });
  return modalText(ack.view as ModalArgs);
}

/** The 1:1 email's ledger row, once it left `queued`/`sending`. */
export async function settledRowOf(app: TestApp, leadId: number): Promise<{ state: string; reason: string | null; sent_at: Date | null }> {
  return waitFor(
    async () => {
      const [row] = await app.db.sql<{ state: string; reason: string | null; sent_at: Date | null }[]>`
        SELECT state, reason, sent_at FROM email_sends WHERE team_id = ${app.slack.teamId} AND lead_id = ${leadId} AND source_kind = 'one_to_one'`;
      return row && row.state !== 'queued' && row.state !== 'sending' ? row : undefined;
    },
    { timeoutMs: 10_000, description: `the 1:1 email to lead ${leadId} to settle` },
  );
}

/**
 * The stand-in newsletter to these leads, through the real send-chunk job; resolves with each lead's
 * ledger row once settled.
 */
export async function broadcastTo(app: TestApp, sourceId: number, leadIds: number[]): Promise<Map<number, { state: string; reason: string | null }>> {
  const sql = app.db.sql;
  const source = { teamId: app.slack.teamId, kind: 'newsletter' as const, id: sourceId };
  const { chunkIds } = await addRecipients(sql, source, leadIdsAudience(sql, leadIds));
  await enqueueChunks(app.nurture.services, source, chunkIds);
  const rows = await waitFor(
    async () => {
      const found = await sql<{ lead_id: number; state: string; reason: string | null }[]>`
        SELECT lead_id, state, reason FROM email_sends WHERE team_id = ${app.slack.teamId} AND source_kind = 'newsletter' AND source_id = ${sourceId}
          AND state NOT IN ('queued', 'sending')`;
      return found.length === leadIds.length ? found : undefined;
    },
    { timeoutMs: 10_000, description: `broadcast ${sourceId} to settle` },
  );
  return new Map(rows.map((row) => [row.lead_id, { state: row.state, reason: row.reason }]));
}
