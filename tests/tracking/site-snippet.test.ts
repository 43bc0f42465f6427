import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSiteKey, signVisitorToken } from '../../src/modules/tracking/tracking-tokens.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { runSnippet } from './site-support.ts';
import { hit } from './tracking-support.ts';

let app: TestApp;
let source: string;
let siteKey: string;
let visitor: string;
beforeAll(async () => {
  app = await startTestApp();
  source = (await hit(`${app.url}/t/s.js`)).body.toString('utf8');
  siteKey = signSiteKey(app.config.trackingSecret, { w: app.slack.teamId });
  visitor = signVisitorToken(app.config.trackingSecret, { w: app.slack.teamId, l: 42 });
});
afterAll(() => app?.stop());

const SCRIPT_SRC = 'https://nurture.test/t/s.js';
const bodies = (page: { beacons: Array<{ body: string }> }) => page.beacons.map((beacon) => JSON.parse(beacon.body) as Record<string, unknown>);

describe('GET /t/s.js', () => {
  it('serves a cacheable script under 3 KB gzipped, gzipped for clients that take it', async () => {
    const plain = await hit(`${app.url}/t/s.js`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(Number(/max-age=(\d+)/.exec(plain.headers['cache-control'] as string)![1])).toBeLessThanOrEqual(86_400);
    expect(gzipSync(plain.body).length).toBeLessThan(3 * 1024);

    const zipped = await hit(`${app.url}/t/s.js`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(3 * 1024);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
  });
});

describe('the snippet in a page', () => {
  it('keeps the visitor id from the link, strips it from the address bar, and beacons a page_view', () => {
    const page = runSnippet(source, {
      href: `https://www.example.com/pricing?plan=pro&nv=${visitor}#teams`,
      scriptSrc: SCRIPT_SRC,
      siteKey,
      title: 'Pricing — Acme',
      referrer: 'https://mail.example.org/',
    });
    expect(page.href()).toBe('https://www.example.com/pricing?plan=pro#teams');
    expect(page.localStorage.get('nurture_nv')).toBe(visitor);
    expect(page.beacons).toHaveLength(1);
    expect(page.beacons[0]!.url).toBe(`https://nurture.test/t/v?site=${encodeURIComponent(siteKey)}`);
    const [view] = bodies(page);
    expect(view).toEqual({
      name: 'page_view',
      title: 'Pricing — Acme',
      referrer: 'https://mail.example.org/',
      visitor,
      url: 'https://www.example.com/pricing?plan=pro#teams',
      session: expect.stringMatching(/^[a-z0-9]{8,}$/),
    });
  });

  it('beacons a page_read with the seconds the page was visible when it is hidden, and again after it is shown and left', () => {
    const page = runSnippet(source, { href: `https://www.example.com/guide?nv=${visitor}`, scriptSrc: SCRIPT_SRC, siteKey });
    page.advance(95_000);
    page.hide();
    // Hidden time does not count; pagehide right after the hide has nothing new to report.
    page.advance(600_000);
    page.leave();
    page.show();
    page.advance(12_400);
    page.leave();
    const [view, firstRead, secondRead] = bodies(page);
    expect(page.beacons).toHaveLength(3);
    expect(firstRead).toEqual({ name: 'page_read', seconds: 95, visitor, url: 'https://www.example.com/guide', session: view!.session });
    expect(secondRead).toMatchObject({ name: 'page_read', seconds: 12, session: view!.session });
  });

  it('on later pages of the tab uses the stored id and keeps the session, and starts a new one after 30 idle minutes', () => {
    const stored = new Map([['nurture_nv', visitor]]);
    const tab = new Map<string, string>();
    const at = Date.parse('2026-03-02T10:00:00Z');
    const first = bodies(runSnippet(source, { href: 'https://www.example.com/case-studies', scriptSrc: SCRIPT_SRC, siteKey, stored, tab, at }))[0]!;
    const soon = bodies(runSnippet(source, { href: 'https://www.example.com/pricing', scriptSrc: SCRIPT_SRC, siteKey, stored, tab, at: at + 29 * 60_000 }))[0]!;
    const later = bodies(runSnippet(source, { href: 'https://www.example.com/pricing', scriptSrc: SCRIPT_SRC, siteKey, stored, tab, at: at + 60 * 60_000 }))[0]!;
    expect(first).toMatchObject({ name: 'page_view', visitor, url: 'https://www.example.com/case-studies' });
    expect(soon.session).toBe(first.session);
    expect(later.session).not.toBe(first.session);
  });

  it('falls back to a first-party cookie when localStorage is blocked', () => {
    const page = runSnippet(source, { href: `https://www.example.com/?nv=${visitor}`, scriptSrc: SCRIPT_SRC, siteKey, storageBlocked: true });
    expect(page.cookie()).toBe(`nurture_nv=${encodeURIComponent(visitor)}`);
    expect(page.href()).toBe('https://www.example.com/');
    expect(bodies(page)[0]).toMatchObject({ visitor });
  });

  it('sends nothing for a visitor who never came from an email', () => {
    const page = runSnippet(source, { href: 'https://www.example.com/pricing', scriptSrc: SCRIPT_SRC, siteKey });
    page.advance(60_000);
    page.hide();
    page.leave();
    expect(page.beacons).toEqual([]);
  });
});
