import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeScore } from '../../src/modules/scoring/describe-score.ts';
import { enqueueTrackedScoring, scoreEventsQueue } from '../../src/modules/scoring/score-events-queue.ts';
import { scoreEvents, type ScorableEvent } from '../../src/modules/scoring/score-events.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { insertEvent, insertLead } from '../support/factories.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { decayedTo, expectedScore, leadIdOf, scoringSettled, storedScore } from './scoring-support.ts';

// In the past: the events API refuses times more than a day ahead of the real clock.
const T0 = new Date('2026-10-01T09:00:00Z');
const at = (minutesAfterT0: number) => new Date(T0.getTime() + minutesAfterT0 * 60_000);
const DAY_MIN = 24 * 60;
const SITE = 'https://acme.example';
const OWNER = 'U0OWNER';

let app: TestApp;
let api: ApiClient;
const clock = new ManualClock(T0);

beforeAll(async () => {
  app = await startTestApp({ clock });
  app.addUser({ id: OWNER, isOwner: true });
  api = await apiClient(app);
});
afterAll(() => app.stop());

/** Tracking's part (opens and clicks): stored, then handed to scoreEvents, as the tracking writer will. */
async function trackEmail(leadId: number, events: Array<{ name: 'email_opened' | 'email_clicked'; url?: string; at: Date; verdict: 'human' | 'machine' }>) {
  const scorable: ScorableEvent[] = [];
  for (const event of events) {
    const properties = event.url ? { url: event.url } : {};
    await insertEvent(app.db.sql, app.slack.teamId, leadId, { name: event.name, kind: 'email', properties, occurred_at: event.at, verdict: event.verdict });
    scorable.push({ leadId, kind: 'email', name: event.name, urlPath: null, properties, occurredAt: event.at, verdict: event.verdict });
  }
  return scoreEvents(app.nurture.services, app.slack.teamId, scorable);
}

async function post(events: unknown[]) {
  const response = await api.post('/api/v1/events', events);
  expect(response.status).toBe(200);
  expect(response.json).toMatchObject({ failed: 0 });
  await scoringSettled(app);
  return response.json as { recorded: number; duplicates: number };
}

const view = (email: string, path: string, when: Date) => ({ email, name: 'page_view', properties: { url: `${SITE}${path}`, session: 's1' }, occurred_at: when.toISOString() });

describe('scoring with the default model', () => {
  it('scores a journey: opens, a click, pricing visits, a comparison, a long read, a return visit and a download', async () => {
    const email = 'yui@journey.example';
    await post([{ email, name: 'signed_up', occurred_at: T0.toISOString() }]); // scores nothing, creates the lead
    const leadId = await leadIdOf(app, email);
    expect(await storedScore(app, leadId)).toBeUndefined();

    // Day 0: a person opens and clicks; a privacy proxy's open and a scanner's click score nothing.
    clock.set(at(2));
    const first = await trackEmail(leadId, [
      { name: 'email_opened', at: at(0), verdict: 'machine' },
      { name: 'email_clicked', at: at(0), url: `${SITE}/pricing?utm_source=mail`, verdict: 'machine' },
      { name: 'email_opened', at: at(1), verdict: 'human' },
      { name: 'email_clicked', at: at(2), url: `${SITE}/pricing?utm_source=mail`, verdict: 'human' },
    ]);
    expect(first).toEqual([{ leadId, before: 0, after: expect.closeTo(6, 3), reasons: expect.any(Array) }]);
    const scored: Array<{ points: number; at: Date }> = [
      { points: 1, at: at(1) },
      { points: 5, at: at(2) },
    ];

    // Day 2: back on the site by themselves (a return visit), comparing pricing, products and features, a long read, a download.
    const day2 = 2 * DAY_MIN;
    clock.set(at(day2 + 20));
    await post([
      view(email, '/pricing/', at(day2)),
      view(email, '/products/analytics', at(day2 + 5)),
      view(email, '/features', at(day2 + 10)),
      { email, name: 'page_read', properties: { url: `${SITE}/case-studies/acme`, seconds: 240, session: 's1' }, occurred_at: at(day2 + 15).toISOString() },
      { email, name: 'page_read', properties: { url: `${SITE}/blog/hello`, seconds: 30, session: 's1' }, occurred_at: at(day2 + 16).toISOString() },
      { email, name: 'resource_download', properties: { asset: 'roi-guide' }, occurred_at: at(day2 + 20).toISOString() },
    ]);
    scored.push(
      { points: 10, at: at(day2) }, // key page /pricing
      { points: 10, at: at(day2) }, // return visit: a new visit 2 days after the click
      { points: 2, at: at(day2 + 5) },
      { points: 2, at: at(day2 + 10) },
      { points: 15, at: at(day2 + 10) }, // the third product or pricing page within 30 minutes
      { points: 8, at: at(day2 + 15) }, // 4 minutes on the case study; 30 s on the blog is not a long read
      { points: 15, at: at(day2 + 20) },
    );
    const afterDay2 = (await storedScore(app, leadId))!;
    expect(afterDay2.score).toBeCloseTo(expectedScore(clock.now(), scored), 6);
    expect(afterDay2.scored_at).toEqual(clock.now());

    // Day 3: pricing again, a new visit within 7 days of the click.
    clock.set(at(3 * DAY_MIN));
    await post([view(email, '/pricing', at(3 * DAY_MIN))]);
    scored.push({ points: 10, at: at(3 * DAY_MIN) }, { points: 10, at: at(3 * DAY_MIN) });
    const stored = (await storedScore(app, leadId))!;
    expect(stored.score).toBeCloseTo(expectedScore(clock.now(), scored), 6);

    const reasons = Object.fromEntries(stored.reasons.map((reason) => [reason.key, { count: reason.count, seconds: reason.seconds }]));
    expect(reasons).toEqual({
      'key_page:/pricing': { count: 2, seconds: undefined },
      'return:7': { count: 2, seconds: undefined },
      'event:resource_download': { count: 1, seconds: undefined },
      'comparison:3': { count: 1, seconds: undefined },
      'read:/case-studies/acme': { count: 1, seconds: 240 },
      'click:acme.example/pricing': { count: 1, seconds: undefined },
      page: { count: 2, seconds: undefined },
      open: { count: 1, seconds: undefined },
    });
    expect(describeScore(stored.reasons, 8)).toBe(
      [
        'visited /pricing twice in 24 hours',
        'came back to the site within 7 days of clicking an email (twice)',
        'resource download',
        'compared 3 or more product and pricing pages in one visit',
        'read /case-studies/acme for 4 minutes',
        'clicked acme.example/pricing',
        'viewed 2 pages within an hour',
        'opened an email',
      ].join(', '),
    );

    // The lead card shows the score now and its reasons in words.
    const card = replyText((await app.command(OWNER, `lead ${email}`)).reply.body);
    expect(card).toContain(`*Score:* ${Math.round(expectedScore(clock.now(), scored))} (:fire: hot)`);
    expect(card).toContain('visited /pricing twice in 24 hours, came back to the site within 7 days of clicking an email (twice)');
  });

  it('scores nothing for machine activity', async () => {
    const lead = await insertLead(app.db.sql, app.slack.teamId);
    clock.set(at(10 * DAY_MIN));
    const changes = await trackEmail(lead.id, [
      { name: 'email_opened', at: clock.now(), verdict: 'machine' },
      { name: 'email_clicked', at: clock.now(), url: `${SITE}/pricing`, verdict: 'machine' },
    ]);
    expect(changes).toEqual([]);
    const web = await scoreEvents(app.nurture.services, app.slack.teamId, [
      { leadId: lead.id, kind: 'web', name: 'page_view', urlPath: '/pricing', properties: {}, occurredAt: clock.now(), verdict: 'machine' },
    ]);
    expect(web).toEqual([]);
    expect(await storedScore(app, lead.id)).toBeUndefined();
  });

  it('halves a score every half-life, and adds new points to the decayed score', async () => {
    const email = 'ken@decay.example';
    const start = at(20 * DAY_MIN);
    clock.set(start);
    await post([{ email, name: 'demo_requested', occurred_at: start.toISOString() }]);
    const leadId = await leadIdOf(app, email);
    const stored = (await storedScore(app, leadId))!;
    expect(stored.score).toBe(40);

    clock.set(at(27 * DAY_MIN));
    expect(decayedTo(stored, clock.now())).toBeCloseTo(20, 9);
    let card = replyText((await app.command(OWNER, `lead ${email}`)).reply.body);
    expect(card).toContain('*Score:* 20 (alerts at 50)');
    expect(card).toContain('demo requested');

    const [change] = await scoreEvents(app.nurture.services, app.slack.teamId, [
      { leadId, kind: 'custom', name: 'resource_download', urlPath: null, properties: {}, occurredAt: clock.now() },
    ]);
    expect(change!.before).toBeCloseTo(20, 9);
    expect(change!.after).toBeCloseTo(35, 9);
    // The reasons decay with the score: the demo request is now worth 20, the download 15.
    expect(change!.reasons.map((reason) => [reason.key, Number(reason.points.toFixed(6))])).toEqual([
      ['event:demo_requested', 20],
      ['event:resource_download', 15],
    ]);

    clock.set(at(41 * DAY_MIN));
    card = replyText((await app.command(OWNER, `lead ${email}`)).reply.body);
    expect(card).toContain(`*Score:* ${Math.round(35 / 4)} (alerts at 50)`);
  });

  it('gives the same score event by event as all at once, and never counts a retried delivery twice', async () => {
    const events = [
      { name: 'resource_download', minutes: 0 },
      { name: 'webinar_registered', minutes: 3 * 60 },
      { name: 'trial_started', minutes: 26 * 60 },
      { name: 'resource_download', minutes: 5 * DAY_MIN },
      { name: 'unknown_event', minutes: 6 * DAY_MIN },
      { name: 'demo_requested', minutes: 9 * DAY_MIN },
    ];
    const points: Record<string, number> = { resource_download: 15, webinar_registered: 10, trial_started: 30, demo_requested: 40, unknown_event: 0 };
    const base = at(30 * DAY_MIN);
    const stepwise = 'step@incremental.example';
    for (const [index, event] of events.entries()) {
      const when = new Date(base.getTime() + event.minutes * 60_000);
      clock.set(new Date(when.getTime() + 60 * 60_000)); // scored an hour after it happened
      const body = { email: stepwise, name: event.name, occurred_at: when.toISOString(), id: `evt-${index}` };
      expect(await post([body])).toMatchObject({ recorded: 1 });
      // The sender retries the same event: stored once, scored once.
      expect(await post([body])).toMatchObject({ recorded: 0, duplicates: 1 });
    }
    const end = clock.advance({ days: 2 });
    const expected = expectedScore(
      end,
      events.map((event) => ({ points: points[event.name]!, at: new Date(base.getTime() + event.minutes * 60_000) })),
    );
    const stepLead = await leadIdOf(app, stepwise);
    expect(decayedTo((await storedScore(app, stepLead))!, end)).toBeCloseTo(expected, 9);

    const together = 'all@incremental.example';
    await post(events.map((event) => ({ email: together, name: event.name, occurred_at: new Date(base.getTime() + event.minutes * 60_000).toISOString() })));
    const allLead = await leadIdOf(app, together);
    expect((await storedScore(app, allLead))!.score).toBeCloseTo(expected, 9);
    const counts = (leadId: number) => storedScore(app, leadId).then((row) => row!.reasons.map((reason) => [reason.key, reason.count]));
    expect(await counts(stepLead)).toEqual(await counts(allLead));
  });

  it('scores a full API batch of 1,000 events in one job', async () => {
    const start = at(45 * DAY_MIN);
    clock.set(new Date(start.getTime() + 10 * 60_000));
    const emails = Array.from({ length: 200 }, (_, index) => `reader-${index}@batch.example`);
    const jobsBefore = (await app.db.sql`SELECT 1 FROM pgboss.job WHERE name = 'scoring.score-events'`).length;
    await post(emails.flatMap((email) => [0, 1, 2, 3, 4].map((minute) => view(email, `/docs/page-${minute}`, new Date(start.getTime() + minute * 60_000)))));
    expect((await app.db.sql`SELECT 1 FROM pgboss.job WHERE name = 'scoring.score-events'`).length).toBe(jobsBefore + 1);
    const rows = await app.db.sql<{ score: number; reasons: Array<{ key: string; count: number }> }[]>`
      SELECT s.score, s.reasons FROM lead_scores s JOIN leads l ON l.id = s.lead_id WHERE l.email LIKE '%@batch.example'`;
    expect(rows).toHaveLength(200);
    const expected = expectedScore(clock.now(), [0, 1, 2, 3, 4].map((minute) => ({ points: 2, at: new Date(start.getTime() + minute * 60_000) })));
    for (const row of rows) {
      expect(row.score).toBeCloseTo(expected, 9);
      expect(row.reasons.map((reason) => [reason.key, reason.count])).toEqual([['page', 5]]);
    }
  });

  it('scores the tracking writers’ packed hand-overs, jobs packed the older way too, and refuses a malformed one', async () => {
    const start = at(60 * DAY_MIN);
    clock.set(new Date(start.getTime() + 60_000));
    const team = app.slack.teamId;
    const packed = await insertLead(app.db.sql, team);
    const older = await insertLead(app.db.sql, team);
    const click = (leadId: number, seconds: number): ScorableEvent => ({
      leadId,
      kind: 'email',
      name: 'email_clicked',
      urlPath: null,
      properties: { url: `${SITE}/pricing` },
      occurredAt: new Date(start.getTime() + seconds * 1000),
      verdict: 'human',
    });
    await enqueueTrackedScoring(app.nurture.services, team, [click(packed.id, 0), click(packed.id, 5), click(packed.id, 9)]);
    // A job queued by the version before: the triples as numbers.
    const shapes = [{ kind: 'email' as const, name: 'email_clicked', urlPath: null, properties: { url: `${SITE}/pricing` } }];
    await app.nurture.services.enqueue(scoreEventsQueue, { teamId: team, at: start.getTime(), shapes, triples: [older.id, 0, 0, older.id, 0, 5000, older.id, 0, 9000] });
    await scoringSettled(app);
    const clicks = (leadId: number) => storedScore(app, leadId).then((row) => row?.reasons.map((reason) => [reason.key, reason.count]));
    expect(await clicks(packed.id)).toEqual([['click:acme.example/pricing', 3]]);
    expect(await clicks(older.id)).toEqual([['click:acme.example/pricing', 3]]);
    expect((await storedScore(app, packed.id))!.score).toBeCloseTo((await storedScore(app, older.id))!.score, 9);

    // Lead 0, and a shape that is not there: refused before anything is queued.
    const refused = async (triples: string) => app.nurture.services.enqueue(scoreEventsQueue, { teamId: team, at: start.getTime(), shapes, triples }).then(() => 'queued', () => 'refused');
    expect(await refused(Buffer.from([0, 0, 0]).toString('base64url'))).toBe('refused');
    expect(await refused(Buffer.from([5, 1, 0]).toString('base64url'))).toBe('refused');
  });

  it('refuses a page_read without its seconds', async () => {
    const response = await api.post('/api/v1/events', [{ email: 'x@read.example', name: 'page_read', properties: { url: `${SITE}/docs` } }]);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ recorded: 0, failed: 1 });
    expect(JSON.stringify(response.json.errors)).toContain('page_read needs properties.seconds');
  });
});
