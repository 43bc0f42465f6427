import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertSegment } from '../../src/modules/segments/queries.ts';
import { ActionIds } from '../../src/slack/ids.ts';
import { replyText } from '../support/slack-replies.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  channelMessages,
  MARKETER,
  OUTSIDE,
  messageActions,
  messageText,
  newChannel,
  newLead,
  recordEvents,
  REP,
  setAlertChannel,
  startAlertsWorld,
  sweep,
  type AlertsWorld,
} from './alerts-support.ts';

let world: AlertsWorld;

beforeAll(async () => {
  world = await startAlertsWorld();
});
afterAll(() => world.app.stop());
let HOT: string;
let EMEA: string;
beforeEach(async () => {
  await world.app.db.sql`DELETE FROM alert_channels`;
  HOT = newChannel(world.app, 'hot-leads');
  EMEA = newChannel(world.app, 'sales-emea');
});

const alertsFor = (email: string) => world.app.slack.messages.filter((message) => !message.threadTs && messageText(message).includes(email));

describe('a hot-lead alert', () => {
  it('fires when the score crosses the threshold upward, says who and why, and offers the rep the next steps', async () => {
    await setAlertChannel(world.app, HOT);
    const lead = await newLead(world.app, { email: 'yui@acme.example', owner_user_id: null });
    await world.app.db.sql`INSERT INTO events (team_id, lead_id, kind, name, properties, url_path, source, occurred_at, verdict)
      VALUES (${world.app.slack.teamId}, ${lead.id}, 'web', 'page_view', '{}', '/pricing', 'test', ${new Date(world.clock.now().getTime() - 60_000)}, 'human')`;

    await recordEvents(world, [{ email: lead.email, name: 'demo_requested' }]); // 40: below 50
    expect(alertsFor(lead.email)).toHaveLength(0);

    await recordEvents(world, [{ email: lead.email, name: 'resource_download' }]); // 55: crossed
    const [alert] = alertsFor(lead.email);
    const text = messageText(alert);
    expect(text).toContain('Hot lead: Yui Tanaka');
    expect(text).toContain('VP Operations at Acme Robotics');
    expect(text).toContain('consideration stage');
    expect(text).toContain('no owner yet');
    expect(text).toContain('Score 55');
    expect(text).toMatch(/demo requested.*resource download|resource download.*demo requested/);
    expect(text).toContain('visited /pricing'); // the timeline
    expect(messageActions(alert!)).toEqual([ActionIds.alertClaim, ActionIds.alertEmail, ActionIds.alertSnooze, ActionIds.alertNotAFit]);

    // Still hot, but it already crossed: no second alert.
    await recordEvents(world, [{ email: lead.email, name: 'webinar_registered' }]);
    expect(alertsFor(lead.email)).toHaveLength(1);
  });

  it('still fires for a lead who unsubscribed, saying no email can go to them, and offers no Email 1:1', async () => {
    await setAlertChannel(world.app, HOT);
    const lead = await newLead(world.app, { email: 'ren@acme.example', status: 'unsubscribed' });
    await recordEvents(world, [{ email: lead.email, name: 'demo_requested' }, { email: lead.email, name: 'resource_download' }]);
    const [alert] = alertsFor(lead.email);
    expect(messageText(alert)).toContain('unsubscribed: no email from Nurture, not even 1:1');
    expect(messageActions(alert!)).toEqual([ActionIds.alertClaim, ActionIds.alertSnooze, ActionIds.alertNotAFit]);
  });

  it('comes at most once per cool-down: a lead cooling down and heating up again within 3 days is not alerted twice', async () => {
    await setAlertChannel(world.app, HOT, { coolDownDays: 3 });
    const lead = await newLead(world.app, { email: 'ken@acme.example' });
    await recordEvents(world, [{ email: lead.email, name: 'demo_requested' }, { email: lead.email, name: 'resource_download' }]);
    expect(alertsFor(lead.email)).toHaveLength(1);

    // Two days later the score has decayed below 50 (55 × 2^(−2/7) ≈ 45); it crosses again: within the cool-down.
    world.clock.advance({ days: 2 });
    await recordEvents(world, [{ email: lead.email, name: 'webinar_registered' }]);
    expect(alertsFor(lead.email)).toHaveLength(1);

    // Ten days on it has cooled right down; a burst brings it back: past the cool-down, a new alert.
    world.clock.advance({ days: 10 });
    await recordEvents(world, [{ email: lead.email, name: 'demo_requested' }, { email: lead.email, name: 'resource_download' }]);
    // Posted within a second or so: the channel had a message moments ago (real time), and Slack's pace is one a second.
    await waitFor(() => alertsFor(lead.email).length === 2, { description: 'the second alert' });
    expect(alertsFor(lead.email)).toHaveLength(2);
  });

  it('goes to one channel only: the most specific that wants the lead', async () => {
    await setAlertChannel(world.app, HOT);
    const segment = await insertSegment(world.app.db.sql, { teamId: world.app.slack.teamId, name: 'Automotive', rule: { type: 'field', field: 'industry', op: 'equals', value: 'automotive' }, includeSuppressed: false, userId: MARKETER });
    await setAlertChannel(world.app, EMEA, { segmentId: segment!.id });
    const german = await newLead(world.app, { email: 'anna@werk.example', industry: 'automotive' });
    const american = await newLead(world.app, { email: 'bob@shop.example', industry: 'retail' });

    await recordEvents(world, [german, american].flatMap((lead) => [{ email: lead.email, name: 'demo_requested' }, { email: lead.email, name: 'resource_download' }]));
    expect(channelMessages(world.app, EMEA).filter((message) => messageText(message).includes(german.email))).toHaveLength(1);
    expect(channelMessages(world.app, HOT).filter((message) => messageText(message).includes(german.email))).toHaveLength(0);
    expect(channelMessages(world.app, HOT).filter((message) => messageText(message).includes(american.email))).toHaveLength(1);
    expect(channelMessages(world.app, EMEA).filter((message) => messageText(message).includes(american.email))).toHaveLength(0);
  });

  it('respects the channel\'s filters: stages, and whose leads', async () => {
    await setAlertChannel(world.app, HOT, { owner: 'unowned', threshold: 50 });
    const customer = await newLead(world.app, { email: 'cara@customer.example', stage: 'customer' });
    const owned = await newLead(world.app, { email: 'otto@owned.example', owner_user_id: REP });
    const open = await newLead(world.app, { email: 'olga@open.example' });
    await recordEvents(world, [customer, owned, open].flatMap((lead) => [{ email: lead.email, name: 'demo_requested' }, { email: lead.email, name: 'resource_download' }]));
    expect(alertsFor(customer.email)).toHaveLength(0);
    expect(alertsFor(owned.email)).toHaveLength(0);
    expect(alertsFor(open.email)).toHaveLength(1);
  });

  it('waits for the end of quiet hours, then posts', async () => {
    await setAlertChannel(world.app, HOT, { quietHours: { from: '19:00', to: '08:00' } });
    world.clock.set(new Date('2026-10-20T22:30:00Z')); // workspace time zone: UTC
    const lead = await newLead(world.app, { email: 'nina@night.example' });
    await recordEvents(world, [{ email: lead.email, name: 'demo_requested' }, { email: lead.email, name: 'resource_download' }]);
    expect(alertsFor(lead.email)).toHaveLength(0);

    world.clock.set(new Date('2026-10-21T07:59:00Z'));
    await sweep(world.app);
    expect(alertsFor(lead.email)).toHaveLength(0);

    world.clock.set(new Date('2026-10-21T08:00:00Z'));
    await sweep(world.app);
    expect(alertsFor(lead.email)).toHaveLength(1);
  });
});

describe('/nurture alerts', () => {
  it('sets a channel up through its form, says so in the channel, and lists it', async () => {
    const { app } = world;
    const triggerId = app.slack.newTriggerId();
    await app.requests.command({ teamId: app.slack.teamId, userId: MARKETER, channelId: HOT, text: 'alerts', responseUrl: app.slack.responseUrl(), triggerId });
    const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
    const viewId = (opened.response as { view: { id: string } }).view.id;

    // The fake submits only what the test enters (Slack would submit what the form shows too).
    const required = { alerts_owner: 'any', alerts_stages: ['awareness', 'consideration', 'decision'], alerts_cool_down_days: '3', alerts_claim_hold_days: '14' };
    // Quiet hours need both ends.
    const halfQuiet = app.slack.viewSubmission({ viewId, userId: 'U0MARKETER', values: { ...required, alerts_threshold: '60', alerts_quiet_from: '19:00' } });
    expect(await app.interaction(halfQuiet)).toMatchObject({ response_action: 'errors', errors: { alerts_quiet_to: expect.stringContaining('both ends') } });

    const submission = app.slack.viewSubmission({
      viewId,
      userId: 'U0MARKETER',
      values: { ...required, alerts_threshold: '60', alerts_quiet_from: '19:00', alerts_quiet_to: '08:00', alerts_stages: ['consideration', 'decision'], alerts_cool_down_days: '5' },
    });
    await app.interaction(submission);
    const said = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === HOT && String(call.args.text).includes('set up hot-lead alerts'));
    expect(String(said.args.text)).toContain('leads reaching a score of 60');
    expect(String(said.args.text)).toContain('quiet 19:00–08:00');
    expect(String(said.args.text)).toContain('every 5 days');

    const list = await app.command(REP, 'alerts list');
    expect(replyText(list.reply.body)).toContain(`<#${HOT}>: leads reaching a score of 60`);
  });

  it('asks to be invited first, refuses DMs, and keeps reps from changing it', async () => {
    const { app } = world;
    expect(replyText((await app.command('U0MARKETER', 'alerts', { channelId: OUTSIDE })).reply.body)).toContain('invite me with `/invite @Nurture`');
    expect(replyText((await app.command('U0MARKETER', 'alerts', { channelId: 'D0DIRECT' })).reply.body)).toContain('in the channel that should get the alerts');
    expect(replyText((await app.command(REP, 'alerts', { channelId: HOT })).reply.body)).toMatch(/Setting up hot-lead alerts/);
  });

  it('stops a channel\'s alerts with `off`, alerts waiting for quiet hours to end included', async () => {
    await setAlertChannel(world.app, EMEA, { quietHours: { from: '19:00', to: '08:00' } });
    world.clock.set(new Date('2026-11-02T22:00:00Z'));
    const waiting = await newLead(world.app, { email: 'wanda@waiting.example' });
    await recordEvents(world, [{ email: waiting.email, name: 'demo_requested' }, { email: waiting.email, name: 'resource_download' }]);

    expect(replyText((await world.app.command('U0MARKETER', 'alerts off', { channelId: EMEA })).reply.body)).toContain('Hot-lead alerts stopped');
    world.clock.set(new Date('2026-11-03T09:00:00Z'));
    await sweep(world.app);
    const lead = await newLead(world.app, { email: 'olaf@off.example' });
    await recordEvents(world, [{ email: lead.email, name: 'demo_requested' }, { email: lead.email, name: 'resource_download' }]);
    expect(alertsFor(waiting.email)).toHaveLength(0);
    expect(alertsFor(lead.email)).toHaveLength(0);
  });

});
