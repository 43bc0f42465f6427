import { AlertChannelSettingsSchema, type AlertChannelSettings } from '../../src/modules/alerts/alert-channel.ts';
import { saveAlertChannel } from '../../src/modules/alerts/queries.ts';
import { sweepAlertsQueue } from '../../src/modules/alerts/sweep-alerts-queue.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import type { StoredMessage } from '../support/fake-slack.ts';
import { insertLead } from '../support/factories.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

export const OWNER = 'U0OWNER';
export const MARKETER = 'U0MARKETER';
export const REP = 'U0REP';
export const REP2 = 'U0REP2';
export const HOT = 'C0HOTLEADS';
export const EMEA = 'C0EMEA';
export const OUTSIDE = 'C0OUTSIDE';

export interface AlertsWorld {
  app: TestApp;
  api: ApiClient;
  clock: ManualClock;
}

/**
 * The app on a controlled clock (a Monday afternoon in UTC, in the past: the events API refuses times
 * far ahead of the real clock), an admin, a marketer, two reps, and channels the bot is in (and one it isn't).
 */
export async function startAlertsWorld(start = new Date('2026-10-05T14:00:00Z')): Promise<AlertsWorld> {
  const clock = new ManualClock(start);
  const app = await startTestApp({ clock });
  app.addUser({ id: OWNER, isOwner: true });
  for (const id of [MARKETER, REP, REP2]) app.addUser({ id, realName: id === MARKETER ? 'Mari Marketer' : id === REP ? 'Rita Rep' : 'Ren Rep', email: `${id.toLowerCase()}@nurture.example` });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
  await app.command(OWNER, `roles add <@${REP}|rita> rep`);
  await app.command(OWNER, `roles add <@${REP2}|ren> rep`);
  app.slack.addChannel({ id: HOT, name: 'hot-leads', isMember: true });
  app.slack.addChannel({ id: EMEA, name: 'sales-emea', isMember: true });
  app.slack.addChannel({ id: OUTSIDE, name: 'random', isMember: false });
  return { app, api: await apiClient(app), clock };
}

let channelCount = 0;
/** A fresh channel with the bot in it: each test its own, so one test's posts don't pace another's. */
export function newChannel(app: TestApp, name = 'hot-leads'): string {
  channelCount += 1;
  return app.slack.addChannel({ id: `C0${name.replace(/[^a-z]/g, '').toUpperCase()}${channelCount}`, name: `${name}-${channelCount}`, isMember: true }).id;
}

/** Sets the channel up as the only one with alerts (a lead crossing goes to one channel only). */
export async function setOnlyAlertChannel(app: TestApp, channelId: string, settings: Partial<AlertChannelSettings> = {}): Promise<void> {
  await app.db.sql`DELETE FROM alert_channels WHERE team_id = ${app.slack.teamId}`;
  await setAlertChannel(app, channelId, settings);
}

export async function setAlertChannel(app: TestApp, channelId: string, settings: Partial<AlertChannelSettings> = {}): Promise<void> {
  await saveAlertChannel(app.db.sql, app.slack.teamId, channelId, AlertChannelSettingsSchema.parse(settings), MARKETER);
}

export async function newLead(app: TestApp, fields: Record<string, unknown> = {}): Promise<{ id: number; email: string }> {
  return insertLead(app.db.sql, app.slack.teamId, { first_name: 'Yui', last_name: 'Tanaka', title: 'VP Operations', company: 'Acme Robotics', stage: 'consideration', ...fields });
}

/**
 * Custom events through the events API, worth the default model's points (demo_requested 40,
 * resource_download 15, webinar_registered 10), at the clock's time; waits until they are scored.
 */
export async function recordEvents(world: AlertsWorld, events: ReadonlyArray<{ email: string; name: string }>): Promise<void> {
  const at = world.clock.now().toISOString();
  const response = await world.api.post('/api/v1/events', events.map((event) => ({ ...event, occurred_at: at })));
  if (response.status !== 200) throw new Error(`events refused: ${response.status} ${JSON.stringify(response.json)}`);
  await jobsSettled(world.app, 'scoring.score-events');
  await jobsSettled(world.app, 'alerts.post');
}

/**
 * Waits until no job of the queue is running or due within 2 s: a post paced to Slack's one message a
 * second is waited for; one waiting for the channel's minute budget is not.
 */
export async function jobsSettled(app: TestApp, queue: string): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await app.db.sql<{ pending: number }[]>`
        SELECT count(*) FILTER (WHERE state = 'active' OR (state IN ('created', 'retry') AND start_after <= now() + interval '2 seconds'))::int AS pending FROM pgboss.job WHERE name = ${queue}`;
      return row?.pending === 0;
    },
    { description: `the ${queue} jobs to finish`, timeoutMs: 15_000 },
  );
}

/** The minute's sweep, run now (the clock moved): quiet hours and snoozes ending, reminders. */
export async function sweep(app: TestApp): Promise<void> {
  await app.nurture.services.enqueue(sweepAlertsQueue, {});
  await jobsSettled(app, 'alerts.sweep');
  await jobsSettled(app, 'alerts.post');
}

/** Top-level messages in the channel (not thread replies), oldest first. */
export const channelMessages = (app: TestApp, channelId: string): StoredMessage[] => app.slack.messages.filter((message) => message.channel === channelId && !message.threadTs);
export const threadReplies = (app: TestApp, channelId: string, ts: string): StoredMessage[] =>
  app.slack.messages.filter((message) => message.channel === channelId && message.threadTs === ts);

/** Everything a person reads in a message: its blocks' texts, buttons included. */
export function messageText(message: StoredMessage | undefined): string {
  if (!message) return '';
  return `${message.text ?? ''}\n${JSON.stringify(message.blocks ?? [])}`.replace(/\\n/g, '\n');
}

/** The action ids of a message's buttons and menus, in order. */
export function messageActions(message: StoredMessage): string[] {
  const blocks = (message.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string }>; accessory?: { action_id?: string } }>;
  return blocks.flatMap((block) => [...(block.type === 'actions' ? (block.elements ?? []) : []), ...(block.accessory ? [block.accessory] : [])]).map((element) => element.action_id ?? '');
}

/** The value a message's button carries (the alert id), by action id. */
export function buttonValue(message: StoredMessage, actionId: string, index = 0): string {
  const blocks = (message.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }>; accessory?: { action_id?: string; value?: string } }>;
  const found = blocks
    .flatMap((block) => [...(block.type === 'actions' ? (block.elements ?? []) : []), ...(block.accessory ? [block.accessory] : [])])
    .filter((element) => element.action_id === actionId);
  const value = found[index]?.value;
  if (value === undefined) throw new Error(`no ${actionId} button in the message`);
  return value;
}
