import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/slack/ids.ts';
import { replyText } from '../support/slack-replies.ts';
import {
  buttonValue,
  channelMessages,
  MARKETER,
  messageActions,
  messageText,
  newChannel,
  newLead,
  recordEvents,
  REP,
  REP2,
  setOnlyAlertChannel,
  startAlertsWorld,
  sweep,
  threadReplies,
  type AlertsWorld,
} from './alerts-support.ts';
import { actOnMessage } from '../support/act-on-message.ts';

let world: AlertsWorld;
beforeAll(async () => {
  world = await startAlertsWorld();
});
afterAll(() => world.app.stop());

/** A channel set up with `settings`, and a lead that just crossed its threshold there: the alert message. */
async function postedAlert(email: string, settings: Parameters<typeof setOnlyAlertChannel>[2] = {}) {
  const channel = newChannel(world.app);
  await setOnlyAlertChannel(world.app, channel, settings);
  const lead = await newLead(world.app, { email });
  await recordEvents(world, [{ email, name: 'demo_requested' }, { email, name: 'resource_download' }]);
  const [message] = channelMessages(world.app, channel);
  if (!message) throw new Error('no alert posted');
  return { channel, lead, message, alertId: buttonValue(message, ActionIds.alertClaim) };
}

const latest = (channel: string, ts: string) => world.app.slack.messages.find((message) => message.channel === channel && message.ts === ts)!;

describe('Claim', () => {
  it('makes the rep the owner, pauses the lead\'s nurture, tells everyone, and the second rep learns they were too late', async () => {
    const { channel, lead, message, alertId } = await postedAlert('claire@claim.example', { claimHoldDays: 10 });
    expect(await actOnMessage(world.app, REP, message, { actionId: ActionIds.alertClaim, value: alertId })).toBeUndefined();

    const updated = latest(channel, message.ts);
    expect(messageText(updated)).toContain(`Claimed by <@${REP}>`);
    expect(messageActions(updated)).toEqual([ActionIds.alertEmail]);
    const [owner] = await world.app.db.sql<{ owner_user_id: string }[]>`SELECT owner_user_id FROM leads WHERE id = ${lead.id}`;
    expect(owner!.owner_user_id).toBe(REP);
    const [hold] = await world.app.db.sql<{ held_until: Date; held_by: string }[]>`SELECT held_until, held_by FROM lead_nurture_holds WHERE lead_id = ${lead.id}`;
    expect(hold!.held_by).toBe(REP);
    expect(hold!.held_until.getTime()).toBe(world.clock.now().getTime() + 10 * 86_400_000);

    const late = await actOnMessage(world.app, REP2, message, { actionId: ActionIds.alertClaim, value: alertId });
    expect(late).toBe(`<@${REP}> already claimed this lead.`);
  });

  it('is for reps: a marketer without the rep role is told so and nothing changes', async () => {
    const { channel, message, alertId } = await postedAlert('mara@roles.example');
    const refused = await actOnMessage(world.app, MARKETER, message, { actionId: ActionIds.alertClaim, value: alertId });
    expect(refused).toMatch(/Claiming a hot lead/);
    expect(messageActions(latest(channel, message.ts))).toContain(ActionIds.alertClaim);
  });
});

describe('Snooze, Not a fit and reminders', () => {
  it('snoozes: the message says until when, and the alert comes back as a new message when the snooze ends', async () => {
    const { channel, message, alertId } = await postedAlert('sam@snooze.example');
    expect(await actOnMessage(world.app, REP, message, { actionId: ActionIds.alertSnooze, overflowValue: `${alertId}:60` })).toBeUndefined();
    expect(messageText(latest(channel, message.ts))).toContain(`Snoozed by <@${REP}>`);
    expect(messageActions(latest(channel, message.ts))).toEqual([]);

    world.clock.advance({ minutes: 59 });
    await sweep(world.app);
    expect(channelMessages(world.app, channel)).toHaveLength(1);
    world.clock.advance({ minutes: 1 });
    await sweep(world.app);
    const messages = channelMessages(world.app, channel);
    expect(messages).toHaveLength(2);
    expect(messageText(messages[1])).toContain(`Back from <@${REP}>'s snooze`);
    expect(messageActions(messages[1]!)).toContain(ActionIds.alertClaim);
  });

  it('records Not a fit, shows who decided, and counts it in the channel list', async () => {
    const { channel, message, alertId } = await postedAlert('nate@nofit.example');
    expect(await actOnMessage(world.app, REP2, message, { actionId: ActionIds.alertNotAFit, value: alertId })).toBeUndefined();
    expect(messageText(latest(channel, message.ts))).toContain(`<@${REP2}> marked this lead not a fit`);
    const list = replyText((await world.app.command(REP, 'alerts list')).reply.body);
    expect(list).toContain(`<#${channel}>`);
    expect(list).toMatch(new RegExp(`<#${channel}>[^•]*1 alerts, 0 claimed, 1 not a fit`));
  });

  it('reminds in the thread once when nobody claims in time', async () => {
    const { channel, message } = await postedAlert('rita@remind.example', { remindAfterMinutes: 30 });
    world.clock.advance({ minutes: 29 });
    await sweep(world.app);
    expect(threadReplies(world.app, channel, message.ts)).toHaveLength(0);
    world.clock.advance({ minutes: 1 });
    await sweep(world.app);
    const [reminder] = threadReplies(world.app, channel, message.ts);
    expect(reminder?.text).toContain('Nobody has claimed Yui Tanaka after 30 minutes');
    world.clock.advance({ minutes: 30 });
    await sweep(world.app);
    expect(threadReplies(world.app, channel, message.ts)).toHaveLength(1);
  });
});
