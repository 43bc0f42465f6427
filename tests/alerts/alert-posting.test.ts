import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_POSTS_PER_MINUTE } from '../../src/modules/alerts/post-alerts.ts';
import { cannotPostAlertsText } from '../../src/modules/alerts/post-alerts-queue.ts';
import { ActionIds } from '../../src/slack/ids.ts';
import {
  buttonValue,
  channelMessages,
  messageActions,
  messageText,
  newChannel,
  newLead,
  recordEvents,
  REP,
  setOnlyAlertChannel,
  startAlertsWorld,
  type AlertsWorld,
  jobsSettled,
  MARKETER,
} from './alerts-support.ts';
import { actOnMessage } from '../support/act-on-message.ts';
import { waitFor } from '../support/wait-for.ts';

let world: AlertsWorld;
beforeAll(async () => {
  world = await startAlertsWorld();
});
afterAll(() => world.app.stop());

const heat = (emails: readonly string[]) => emails.flatMap((email) => [{ email, name: 'demo_requested' }, { email, name: 'resource_download' }]);

describe('posting alerts to a channel', () => {
  it('rolls a burst up into one message, each lead with its own Claim', async () => {
    const channel = newChannel(world.app);
    await setOnlyAlertChannel(world.app, channel);
    const emails = Array.from({ length: 12 }, (_, i) => `burst${i}@wave.example`);
    for (const email of emails) await newLead(world.app, { email, first_name: email.slice(0, 6) });
    await recordEvents(world, heat(emails));

    const messages = channelMessages(world.app, channel);
    expect(messages).toHaveLength(1);
    const rollup = messages[0]!;
    expect(messageText(rollup)).toContain('12 hot leads just now');
    for (const email of emails) expect(messageText(rollup)).toContain(email);
    expect(messageActions(rollup).filter((id) => id === ActionIds.alertClaim)).toHaveLength(12);

    // Claiming one line of the roll-up updates that line only.
    expect(await actOnMessage(world.app, REP, rollup, { actionId: ActionIds.alertClaim, value: buttonValue(rollup, ActionIds.alertClaim, 3) })).toBeUndefined();
    const redrawn = world.app.slack.messages.find((message) => message.ts === rollup.ts)!;
    expect(messageText(redrawn)).toContain(`Claimed by <@${REP}>`);
    expect(messageActions(redrawn).filter((id) => id === ActionIds.alertClaim)).toHaveLength(11);
  });

  it('posts alerts one by one at most about once a second, and past a few a minute rolls the rest up', async () => {
    const channel = newChannel(world.app);
    await setOnlyAlertChannel(world.app, channel);
    const emails = Array.from({ length: 4 }, (_, i) => `pace${i}@wave.example`);
    for (const email of emails) await newLead(world.app, { email });
    // Two crossings straight after each other, each its own scoring batch: two messages, a second apart.
    for (const [i, email] of emails.slice(0, 2).entries()) {
      await recordEvents(world, heat([email]));
      await waitFor(() => channelMessages(world.app, channel).length === i + 1, { description: `alert ${i + 1} posted on its own` });
    }
    const posted = await world.app.db.sql<{ at: Date }[]>`
      SELECT slack_posted_at AS at FROM lead_alerts WHERE channel_id = ${channel} ORDER BY slack_posted_at`;
    expect(posted[1]!.at.getTime() - posted[0]!.at.getTime()).toBeGreaterThanOrEqual(1000);

    // The channel had its few messages this minute: the two above (one made 57 s old, one 30 s) and two
    // more 30 s old. The next crossings wait until the oldest leaves the minute; by then three are still
    // in it, so the two waiting go out as one roll-up.
    await world.app.db.sql`
      UPDATE lead_alerts SET slack_posted_at = clock_timestamp() - CASE WHEN id = (SELECT min(id) FROM lead_alerts WHERE channel_id = ${channel}) THEN interval '57 seconds' ELSE interval '30 seconds' END
      WHERE channel_id = ${channel}`;
    await world.app.db.sql`
      INSERT INTO lead_alerts (team_id, lead_id, channel_id, score, threshold, reasons, status, raised_at, post_after, posted_at, slack_posted_at, message_ts)
      SELECT team_id, lead_id, channel_id, score, threshold, reasons, 'posted', raised_at, post_after, posted_at, clock_timestamp() - interval '30 seconds', message_ts || '9'
      FROM lead_alerts WHERE channel_id = ${channel}`;
    expect(MAX_POSTS_PER_MINUTE).toBe(4);
    await recordEvents(world, heat(emails.slice(2)));
    expect(channelMessages(world.app, channel)).toHaveLength(2);
    const rollup = await world.app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === channel && String(call.args.text).includes('2 hot leads just now'), { timeoutMs: 15_000 });
    expect(rollup.ok).toBe(true);
    expect(channelMessages(world.app, channel)).toHaveLength(3);
  }, 40_000);

  it('retries when Slack fails, and posts the alert exactly once', async () => {
    const channel = newChannel(world.app);
    await setOnlyAlertChannel(world.app, channel);
    const lead = await newLead(world.app, { email: 'retry@wave.example' });
    world.app.slack.failNext('chat.postMessage', 'internal_error');
    await recordEvents(world, heat([lead.email]));
    await waitFor(() => channelMessages(world.app, channel).length > 0, { description: 'the alert, posted on a retry', timeoutMs: 20_000 });
    await jobsSettled(world.app, 'alerts.post');
    expect(channelMessages(world.app, channel)).toHaveLength(1);
    expect(world.app.slack.callsTo('chat.postMessage', { includeFailed: true }).filter((call) => call.injected && call.args.channel === channel)).toHaveLength(1);
  });

  it('tells whoever set the channel up when the bot cannot post there, keeps the alert, and posts it once invited', async () => {
    const channel = world.app.slack.addChannel({ id: 'C0NOTINVITED', name: 'not-invited', isMember: false }).id;
    await setOnlyAlertChannel(world.app, channel);
    const lead = await newLead(world.app, { email: 'waiting@wave.example' });
    await recordEvents(world, heat([lead.email]));

    const dm = await world.app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === MARKETER);
    expect(dm.args.text).toBe(cannotPostAlertsText(channel, 'not_in_channel'));
    const [waiting] = await world.app.db.sql<{ status: string }[]>`SELECT status FROM lead_alerts WHERE lead_id = ${lead.id}`;
    expect(waiting!.status).toBe('pending');

    world.app.slack.addChannel({ id: channel, name: 'not-invited', isMember: true });
    await waitFor(() => channelMessages(world.app, channel).length === 1, { description: 'the alert, posted on a retry once the bot is in', timeoutMs: 30_000 });
    expect(messageText(channelMessages(world.app, channel)[0])).toContain(lead.email);
    // Told once, not on every retry.
    expect(world.app.slack.callsTo('chat.postMessage').filter((call) => call.args.channel === MARKETER)).toHaveLength(1);
  }, 40_000);
});
