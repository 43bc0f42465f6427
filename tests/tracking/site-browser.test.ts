import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/slack/ids.ts';
import { insertLead } from '../support/factories.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { MARKETER, NEWS_TEMPLATE, OWNER, SECOND_MARKETER, clickCard, createSegment, createTemplate, planNewsletter, setUpWorkspace } from '../newsletters/newsletter-support.ts';
import { decayedTo, scoringSettled, storedScore, type StoredScore } from '../scoring/scoring-support.ts';
import { DESKTOP_CHROME_UA, installSnippetIn, launchChromium, startCustomerSite, type CustomerSite } from './browser-support.ts';
import { local, trackedUrls } from './tracking-support.ts';

/**
 * The site snippet in a real browser (Debian's headless Chromium): a lead clicks a link in a newsletter,
 * lands on the customer's site, reads, leaves, and comes back days later. Nothing here is simulated
 * between the browser and the app: the redirect, the snippet, its beacons and their Origin are Chromium's.
 */

const PAGES = {
  '/pricing': { title: 'Pricing — Kojo', body: '<h1>Pricing</h1><p>Pro: ¥9,800 a month.</p>' },
  '/case-studies/maru': { title: 'How Maru ships twice as fast — Kojo', body: '<h1>Case study</h1><p>Maru and Kojo.</p>' },
};
/** When the lead opens the page, by the browser's clock. */
const PAGE_CLOCK = new Date('2026-03-02T09:30:00Z');

let app: TestApp;
let clock: ManualClock;
let site: CustomerSite;
let browser: Browser;
let team: string;

beforeAll(async () => {
  clock = new ManualClock(new Date());
  app = await startTestApp({ clock });
  team = app.slack.teamId;
  await setUpWorkspace(app);
  // The marketer pastes the snippet `/nurture site` shows into every page; in tests PUBLIC_URL is not
  // where the app listens, so the snippet points at the app's own address (as local() does for links).
  const snippet = installSnippetIn(replyText((await app.command(MARKETER, 'site')).reply.body)).replace(`"${app.config.publicUrl}/`, `"${app.url}/`);
  site = await startCustomerSite(PAGES, snippet);
  const allowed = replyText((await app.command(OWNER, `site origins ${site.origin}`)).reply.body);
  expect(allowed).toBe(`Pages on ${site.origin} may now report visits.`);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await app?.stop();
});

interface StoredEvent {
  name: string;
  url_path: string | null;
  properties: Record<string, unknown>;
  occurred_at: Date;
  verdict: string;
}

/** The lead's events once `count` of them are stored, by name (clicks and visits have their own writers: no order between them). */
async function storedEvents(leadId: number, count: number): Promise<StoredEvent[]> {
  return waitFor(
    async () => {
      const events = await app.db.sql<StoredEvent[]>`
        SELECT name, url_path, properties, occurred_at, verdict FROM events WHERE team_id = ${team} AND lead_id = ${leadId} ORDER BY name, occurred_at`;
      return events.length >= count ? events : undefined;
    },
    { description: `${count} stored events of lead ${leadId}` },
  );
}

/** The lead's score once scoring has run over everything stored, with these reasons among its own. */
async function scoreWith(leadId: number, kinds: string[]): Promise<StoredScore> {
  return waitFor(
    async () => {
      await scoringSettled(app);
      const score = await storedScore(app, leadId);
      return score && kinds.every((kind) => score.reasons.some((reason) => reason.kind === kind)) ? score : undefined;
    },
    { description: `the score of lead ${leadId} to hold ${kinds.join(', ')}` },
  );
}

/** A newsletter linking to the site, planned and approved in Slack, sent to one lead: its tracked link. */
async function newsletterClickUrl(email: string): Promise<string> {
  const templateId = await createTemplate(app, { ...NEWS_TEMPLATE, name: 'Pricing news', body: `Hi {{ first_name }},\n\nSee [our new plans](${site.origin}/pricing?plan=pro).` });
  const segmentId = await createSegment(app, 'Browser lead', { type: 'field', field: 'email', op: 'equals', value: email });
  const { newsletter } = await planNewsletter(app, MARKETER, { templateId, segmentId });
  expect(await clickCard(app, SECOND_MARKETER, ActionIds.newsletterApprove, newsletter)).toBeUndefined();
  const [sent] = await app.resend.waitForEmails((recorded) => recorded.to.includes(email));
  const [click] = trackedUrls(sent!.html!).clicks;
  return local(app, click!);
}

describe('the site snippet in Chromium', () => {
  it('ties a lead’s page view, time on page when the tab closes, and a return visit days later to the newsletter click, and scores them', async () => {
    const lead = await insertLead(app.db.sql, team, { email: 'ann.browser@kojo-customer.example', first_name: 'Ann' });
    const clickUrl = await newsletterClickUrl(lead.email);
    // Read half an hour after delivery: a click seconds after it is a link scanner's.
    clock.advance({ minutes: 30 });

    const context = await browser.newContext({ userAgent: DESKTOP_CHROME_UA });
    // The page's clock stands still unless the test moves it: "4 minutes on the page" takes no time.
    await context.clock.install({ time: PAGE_CLOCK });
    await context.clock.pauseAt(PAGE_CLOCK);
    const requests: string[] = [];
    context.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));

    // 1. The click: 302 to the site with nv=…, which the snippet keeps and takes out of the address bar.
    const page = await context.newPage();
    await page.goto(clickUrl);
    const [click, view] = await storedEvents(lead.id, 2); // email_clicked < page_view
    expect(click).toMatchObject({ name: 'email_clicked', verdict: 'human', properties: expect.objectContaining({ url: `${site.origin}/pricing?plan=pro` }) });
    expect(view).toEqual({
      name: 'page_view',
      url_path: '/pricing',
      properties: { url: `${site.origin}/pricing?plan=pro`, title: 'Pricing — Kojo', referrer: '', session: expect.any(String) },
      occurred_at: clock.now(),
      verdict: 'human',
    });
    expect(page.url()).toBe(`${site.origin}/pricing?plan=pro`);
    expect(requests.filter((request) => request.startsWith('POST '))).toEqual(['POST /t/v']);

    // 2. Four minutes on the page, then the tab is closed: the read goes out as the page hides.
    clock.advance({ minutes: 4 });
    await context.clock.fastForward('04:00');
    await page.close({ runBeforeUnload: true });
    const read = (await storedEvents(lead.id, 3)).find((event) => event.name === 'page_read');
    expect(read).toEqual({
      name: 'page_read',
      url_path: '/pricing',
      properties: { url: `${site.origin}/pricing?plan=pro`, seconds: 240, session: view!.properties.session },
      occurred_at: clock.now(),
      verdict: 'human',
    });
    const afterFirstVisit = await scoreWith(lead.id, ['click', 'key_page', 'read']);

    // 3. Two days later the lead comes back by typing the address: no nv, yet the visit is theirs.
    clock.advance({ days: 2 });
    const again = await context.newPage();
    await again.goto(`${site.origin}/case-studies/maru`);
    const returned = (await storedEvents(lead.id, 4)).filter((event) => event.name === 'page_view')[1];
    expect(returned).toMatchObject({ name: 'page_view', url_path: '/case-studies/maru', occurred_at: clock.now(), verdict: 'human' });
    expect(returned!.properties).toMatchObject({ url: `${site.origin}/case-studies/maru`, title: 'How Maru ships twice as fast — Kojo' });
    // A new tab is a new session.
    expect(returned!.properties.session).not.toBe(view!.properties.session);

    const afterReturn = await scoreWith(lead.id, ['return']);
    expect(afterReturn.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'key_page', subject: '/pricing' }),
        expect.objectContaining({ kind: 'read', subject: '/pricing', seconds: 240 }),
        expect.objectContaining({ kind: 'key_page', subject: '/case-studies/maru' }),
        expect.objectContaining({ kind: 'return' }),
      ]),
    );
    expect(afterReturn.score).toBeGreaterThan(decayedTo(afterFirstVisit, clock.now()));
    await context.close();
  });

  it('reports nothing about a visitor who never came from an email', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME_UA });
    const requests: string[] = [];
    context.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));
    const page = await context.newPage();
    // goto waits for the load event, which waits for the async snippet to have run.
    const loaded = await page.goto(`${site.origin}/pricing`);
    expect(loaded?.status()).toBe(200);
    await page.close({ runBeforeUnload: true });
    expect(requests).toContain('GET /t/s.js');
    expect(requests.filter((request) => request.includes('/t/v'))).toEqual([]);
    await context.close();
  });
});
