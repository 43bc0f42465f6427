import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SITE_VISIT_REFUSALS } from '../../src/modules/tracking/site-routes.ts';
import { signEmailToken, signSiteKey, signVisitorToken } from '../../src/modules/tracking/tracking-tokens.ts';
import { insertLead } from '../support/factories.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { scoringSettled, storedScore } from '../scoring/scoring-support.ts';
import { post, runSnippet, type SnippetPage } from './site-support.ts';
import { hit, HUMAN_UA } from './tracking-support.ts';

const OWNER = 'U0OWNER';
const SITE = 'https://www.example.com';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

let app: TestApp;
let clock: ManualClock;
let team: string;
let source: string;
let siteKey: string;
beforeAll(async () => {
  clock = new ManualClock('2026-03-02T10:00:00Z');
  app = await startTestApp({ clock });
  team = app.slack.teamId;
  app.addUser({ id: OWNER, isOwner: true });
  await app.command(OWNER, `site origins <${SITE}> https://shop.example.com`);
  source = (await hit(`${app.url}/t/s.js`)).body.toString('utf8');
  siteKey = signSiteKey(app.config.trackingSecret, { w: team });
});
afterAll(() => app?.stop());

const visitUrl = (key = siteKey) => `${app.url}/t/v?site=${encodeURIComponent(key)}`;

async function newVisitor(): Promise<{ leadId: number; visitor: string }> {
  const lead = await insertLead(app.db.sql, team);
  return { leadId: lead.id, visitor: signVisitorToken(app.config.trackingSecret, { w: team, l: lead.id }) };
}

/** A page of the customer's site with the snippet, its beacons aimed at this app. */
function openPage(path: string, visitor: string, title = 'Acme'): SnippetPage {
  return runSnippet(source, { href: `${SITE}${path}${path.includes('?') ? '&' : '?'}nv=${visitor}`, scriptSrc: `${app.url}/t/s.js`, siteKey, title, referrer: 'https://mail.example.org/' });
}

/** Delivers the page's beacons as the browser would (text/plain, the page's Origin). */
async function deliver(page: SnippetPage, userAgent = HUMAN_UA): Promise<number[]> {
  const statuses: number[] = [];
  for (const beacon of page.beacons.splice(0)) statuses.push((await post(beacon.url, beacon.body, { origin: SITE, 'user-agent': userAgent })).status);
  return statuses;
}

interface StoredVisit {
  kind: string;
  name: string;
  url_path: string | null;
  properties: Record<string, unknown>;
  occurred_at: Date;
  verdict: string;
  verdict_reason: string | null;
}

const visitsOf = (leadId: number) =>
  app.db.sql<StoredVisit[]>`SELECT kind, name, url_path, properties, occurred_at, verdict, verdict_reason FROM events WHERE team_id = ${team} AND lead_id = ${leadId} ORDER BY id`;

async function storedVisits(leadId: number, count: number): Promise<StoredVisit[]> {
  return waitFor(async () => {
    const visits = await visitsOf(leadId);
    return visits.length >= count ? visits : undefined;
  }, { description: `${count} stored visits of lead ${leadId}` });
}

describe('CORS on /t/v', () => {
  it('answers the preflight of an allowed origin, and refuses another origin without CORS headers, storing nothing from it', async () => {
    const allowed = await post(visitUrl(), '', { origin: 'https://shop.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }, 'OPTIONS');
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example.com');
    expect(allowed.headers['access-control-allow-methods']).toBe('POST');
    expect(allowed.headers.vary).toBe('Origin');

    const refused = await post(visitUrl(), '', { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' }, 'OPTIONS');
    expect(refused.status).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();

    const { leadId, visitor } = await newVisitor();
    const page = openPage('/pricing', visitor);
    const [beacon] = page.beacons;
    const foreign = await post(beacon!.url, beacon!.body, { origin: 'https://evil.example.net', 'user-agent': HUMAN_UA });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.parse(foreign.body.toString()).error).toBe(SITE_VISIT_REFUSALS.origin);
    const noOrigin = await post(beacon!.url, beacon!.body, { 'user-agent': HUMAN_UA });
    expect(noOrigin.status).toBe(403);
    // The same beacon from the site itself is stored: and it is the only one.
    expect(await deliver(page)).toEqual([204]);
    expect(await storedVisits(leadId, 1)).toHaveLength(1);
    await app.nurture.siteVisits!.flush();
    expect(await visitsOf(leadId)).toHaveLength(1);
  });
});

describe('POST /t/v', () => {
  it('stores a page_view with its path and a page_read with its seconds, tied to the lead, as a person’s', async () => {
    const { leadId, visitor } = await newVisitor();
    const page = openPage('/pricing?plan=pro', visitor, 'Pricing — Acme');
    page.advance(150_000);
    page.hide();
    const answers = [];
    for (const beacon of page.beacons) answers.push(await post(beacon.url, beacon.body, { origin: SITE, 'user-agent': HUMAN_UA }));
    expect(answers.map((answer) => answer.status)).toEqual([204, 204]);
    expect(answers[0]!.headers['access-control-allow-origin']).toBe(SITE);

    const visits = await storedVisits(leadId, 2);
    const view = visits.find((visit) => visit.name === 'page_view');
    const read = visits.find((visit) => visit.name === 'page_read');
    const session = view!.properties.session;
    expect(view).toEqual({
      kind: 'web',
      name: 'page_view',
      url_path: '/pricing',
      properties: { url: `${SITE}/pricing?plan=pro`, title: 'Pricing — Acme', referrer: 'https://mail.example.org/', session },
      occurred_at: clock.now(),
      verdict: 'human',
      verdict_reason: null,
    });
    expect(read).toMatchObject({ kind: 'web', name: 'page_read', url_path: '/pricing', properties: { url: `${SITE}/pricing?plan=pro`, seconds: 150, session }, verdict: 'human' });
  });

  it('refuses with a reason, and stores nothing from, a tampered visitor id or site key, another workspace’s visitor, bad JSON, a bad shape or a huge body', async () => {
    const { leadId, visitor } = await newVisitor();
    const good = JSON.stringify({ name: 'page_view', title: 'Acme', referrer: '', visitor, url: `${SITE}/`, session: 'abcdefgh12' });
    const tamperedVisitor = signVisitorToken(app.config.trackingSecret, { w: team, l: leadId + 1 }).split('.')[0] + '.' + visitor.split('.')[1];
    const otherTeam = signVisitorToken(app.config.trackingSecret, { w: 'T0OTHER', l: leadId });
    // What clicks hand out now: the email token as the visitor id.
    const emailToken = (w: string, l: number) => signEmailToken(app.config.trackingSecret, { w, s: 1, l, v: 'v1', t: 0, n: 1 });
    const tamperedEmail = emailToken(team, leadId + 1).split('.')[0] + '.' + emailToken(team, leadId).split('.')[1];
    const tamperedSite = `${signSiteKey(app.config.trackingSecret, { w: 'T0OTHER' }).split('.')[0]}.${siteKey.split('.')[1]}`;
    const send = (body: string, url = visitUrl()) => post(url, body, { origin: SITE, 'user-agent': HUMAN_UA });
    const refusal = async (answer: Promise<{ status: number; body: Buffer }>) => {
      const { status, body } = await answer;
      return [status, JSON.parse(body.toString()).error as string] as const;
    };

    expect(await refusal(send(good.replace(visitor, tamperedVisitor)))).toEqual([400, SITE_VISIT_REFUSALS.visitor]);
    expect(await refusal(send(good.replace(visitor, otherTeam)))).toEqual([400, SITE_VISIT_REFUSALS.otherWorkspace]);
    expect(await refusal(send(good.replace(visitor, tamperedEmail)))).toEqual([400, SITE_VISIT_REFUSALS.visitor]);
    expect(await refusal(send(good.replace(visitor, emailToken('T0OTHER', leadId))))).toEqual([400, SITE_VISIT_REFUSALS.otherWorkspace]);
    expect(await refusal(send(good, visitUrl(tamperedSite)))).toEqual([400, SITE_VISIT_REFUSALS.siteKey]);
    expect(await refusal(send(good, `${app.url}/t/v`))).toEqual([400, SITE_VISIT_REFUSALS.siteKey]);
    expect(await refusal(send(good.slice(0, -2)))).toEqual([400, SITE_VISIT_REFUSALS.json]);
    expect(await refusal(send(good.replace('"page_view"', '"page_read"')))).toEqual([400, 'seconds: Invalid input: expected number, received undefined']);
    expect(await refusal(send(good.replace(`${SITE}/`, 'javascript:alert(1)')))).toEqual([400, 'url: url must be the http(s) address of the page']);
    expect(await refusal(send(good.replace('"Acme"', JSON.stringify('x'.repeat(9000)))))).toEqual([413, SITE_VISIT_REFUSALS.tooLarge]);

    // A good visit after them: once it is stored, anything sent before it would be too.
    expect((await send(good)).status).toBe(204);
    await storedVisits(leadId, 1);
    await app.nurture.siteVisits!.flush();
    expect((await visitsOf(leadId)).map((visit) => visit.name)).toEqual(['page_view']);
    expect(await visitsOf(leadId + 1)).toEqual([]);
  });

  it('stores a crawler’s visit as machine with its reason, and does not score it', async () => {
    const { leadId, visitor } = await newVisitor();
    expect(await deliver(openPage('/pricing', visitor), GOOGLEBOT)).toEqual([204]);
    const [visit] = await storedVisits(leadId, 1);
    expect(visit).toMatchObject({ name: 'page_view', verdict: 'machine', verdict_reason: 'known bot' });
    await scoringSettled(app);
    expect(await storedScore(app, leadId)).toBeUndefined();
  });

  it('scores a visit to /pricing and a long read there, with the reasons kept', async () => {
    const { leadId, visitor } = await newVisitor();
    const page = openPage('/pricing', visitor);
    page.advance(180_000);
    page.leave();
    expect(await deliver(page)).toEqual([204, 204]);
    await storedVisits(leadId, 2);
    const score = await waitFor(async () => {
      await scoringSettled(app);
      const stored = await storedScore(app, leadId);
      return stored && stored.reasons.length >= 2 ? stored : undefined;
    }, { description: 'the visit scored' });
    expect(score.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'key_page', subject: '/pricing', count: 1 }),
        expect.objectContaining({ kind: 'read', subject: '/pricing' }),
      ]),
    );
    expect(score.score).toBeGreaterThanOrEqual(18);
  });
});

describe('stopping', () => {
  it('stores every visit it answered before a graceful stop', async () => {
    const { leadId, visitor } = await newVisitor();
    const pages = Array.from({ length: 100 }, (_, i) => openPage(`/docs/${i}`, visitor));
    const answers = await Promise.all(pages.map((page) => deliver(page)));
    expect(answers.flat().every((status) => status === 204)).toBe(true);
    await app.nurture.stop();
    expect(await visitsOf(leadId)).toHaveLength(100);
  });
});
