import { request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/lib/signed-token.ts';
import { forgetLead } from '../../src/modules/leads/forget-lead.ts';
import { compileTemplate } from '../../src/modules/templates/compile-template.ts';
import { EMAIL_TOKEN, LINK_TOKEN, readClickToken, readVisitorToken, signLinkToken, VISITOR_PARAMETER, VISITOR_TOKEN, type EmailToken } from '../../src/modules/tracking/tracking-tokens.ts';
import type { ManualClock } from '../support/manual-clock.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { eventsOf, hit, HUMAN_UA, LAUNCH, local, PRICING, sendTo, startTrackingApp, TEAM, trackedUrls } from './tracking-support.ts';

let app: TestApp;
let clock: ManualClock;
beforeAll(async () => {
  ({ app, clock } = await startTrackingApp());
});
afterAll(async () => {
  await app?.stop();
});

const VERSION = compileTemplate(LAUNCH).version;

/** The path token of a tracked URL: `/t/c/<token>` or `/t/o/<token>.gif`. */
const pathToken = (url: string) => new URL(url).pathname.replace(/^\/t\/[co]\//, '').replace(/\.gif$/, '');

/** The email token a sent email carries, read back. */
function emailTokenOf(html: string): EmailToken {
  const clicked = readClickToken(app.config.trackingSecret, pathToken(trackedUrls(html).clicks[0]!));
  return clicked!.email;
}

describe('compact tracking tokens', () => {
  it('every email carries compact tokens: two 22-character signatures per click, a click path under 200 characters', async () => {
    const { email } = await sendTo(app, 1);
    const { clicks, pixel, hidden } = trackedUrls(email.html!);
    for (const url of [...clicks, hidden]) expect(pathToken(url)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(pathToken(pixel)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    // The pricing link (a 54-character address) in ~170 characters; its JSON tokens took ~330.
    expect(pathToken(clicks[0]!).length).toBeLessThan(200);
    expect(pathToken(pixel).length).toBeLessThan(90);
  });

  it('tokens of the JSON form (emails sent before the compact form) still redirect and count, alone or mixed with a compact one', async () => {
    const { email, leadId, sendId } = await sendTo(app, 1);
    clock.advance({ minutes: 30 });
    const secret = app.config.trackingSecret;
    const payload = emailTokenOf(email.html!);
    const jsonEmail = signToken(secret, EMAIL_TOKEN, payload);
    const jsonLink = signToken(secret, LINK_TOKEN, { v: VERSION, u: PRICING });
    const compactClick = pathToken(trackedUrls(email.html!).clicks[0]!);
    const compactLink = compactClick.split('.').slice(0, 2).join('.');

    for (const token of [`${jsonLink}.${jsonEmail}`, `${compactLink}.${jsonEmail}`, `${jsonLink}.${compactClick.split('.').slice(2).join('.')}`]) {
      const answer = await hit(`${app.url}/t/c/${token}`);
      expect.soft(answer.status, token).toBe(302);
      const location = new URL(answer.headers.location as string);
      expect.soft(`${location.origin}${location.pathname}${location.hash}`).toBe('https://shop.example.com/pricing#top');
      expect.soft(readVisitorToken(secret, location.searchParams.get(VISITOR_PARAMETER)!)).toEqual({ w: TEAM, l: leadId });
    }
    expect((await hit(`${app.url}/t/o/${jsonEmail}.gif`)).status).toBe(200);
    // A visitor id of the JSON form still names its lead.
    expect(readVisitorToken(secret, signToken(secret, VISITOR_TOKEN, { w: TEAM, l: leadId }))).toEqual({ w: TEAM, l: leadId });

    const events = await waitFor(async () => {
      const stored = await eventsOf(app, leadId);
      return stored.length === 4 ? stored : undefined;
    }, { description: 'three clicks and an open stored' });
    expect(events.map((event) => event.name).sort()).toEqual(['email_clicked', 'email_clicked', 'email_clicked', 'email_opened']);
    expect(events.every((event) => event.verdict === 'human' && event.properties.send_id === sendId)).toBe(true);
  });

  it('sets the visitor id in place of one the address already carries, keeping its other parameters and fragment', async () => {
    const { email, leadId } = await sendTo(app, 1);
    clock.advance({ minutes: 30 });
    const emailPart = pathToken(trackedUrls(email.html!).clicks[0]!).split('.').slice(2).join('.');
    const link = signLinkToken(app.config.trackingSecret, { v: VERSION, u: 'https://shop.example.com/offer?nv=stale&a=1&b=two%20words#form' });
    // Twice: the second redirect is built from what the first worked out for this link.
    for (let i = 0; i < 2; i++) {
      const answer = await hit(`${app.url}/t/c/${link}.${emailPart}`);
      expect(answer.status).toBe(302);
      const location = new URL(answer.headers.location as string);
      expect(location.pathname).toBe('/offer');
      expect(location.searchParams.getAll(VISITOR_PARAMETER)).toHaveLength(1);
      expect(readVisitorToken(app.config.trackingSecret, location.searchParams.get(VISITOR_PARAMETER)!)).toEqual({ w: TEAM, l: leadId });
      expect(location.searchParams.get('a')).toBe('1');
      expect(location.searchParams.get('b')).toBe('two words');
      expect(location.hash).toBe('#form');
    }
  });
});

describe('a lead erased after its email went out', () => {
  it('its later clicks are answered and not stored, and they hold up no one else’s', async () => {
    const erased = await sendTo(app, 1);
    const kept = await sendTo(app, 1);
    clock.advance({ minutes: 30 });
    const erasedClick = local(app, trackedUrls(erased.email.html!).clicks[0]!);
    // A first click: the writer now knows the email's ledger row.
    expect((await hit(erasedClick)).status).toBe(302);
    await waitFor(async () => (await eventsOf(app, erased.leadId)).length === 1, { description: 'the first click stored' });
    const [{ email: address } = { email: '' }] = await app.db.sql<{ email: string }[]>`SELECT email FROM leads WHERE id = ${erased.leadId}`;
    await forgetLead({ sql: app.db.sql, trackingSecret: app.config.trackingSecret }, TEAM, address, 'U0ADMIN');

    const dropped = app.nurture.tracking!.stats.dropped;
    const answers = await Promise.all([hit(erasedClick), hit(local(app, trackedUrls(kept.email.html!).clicks[0]!)), hit(local(app, trackedUrls(kept.email.html!).pixel))]);
    expect(answers.map((answer) => answer.status)).toEqual([302, 302, 200]);
    await app.nurture.tracking!.flush();

    expect((await eventsOf(app, kept.leadId)).map((event) => event.name).sort()).toEqual(['email_clicked', 'email_opened']);
    expect(await eventsOf(app, erased.leadId)).toEqual([]);
    expect(app.nurture.tracking!.stats.dropped).toBe(dropped + 1);
    expect(app.logs.filter((line) => line.msg === 'tracking events not stored yet; retrying')).toEqual([]);
  });
});

/** A GET with the request target exactly as written (a URL given to http.request would be normalised first). */
function rawHit(target: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  const { hostname, port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: target, headers: { 'user-agent': HUMAN_UA } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('click paths', () => {
  it('a path written another way (an escaped character, a dot segment) reaches the same redirect as the plain one', async () => {
    const { email } = await sendTo(app, 1);
    const token = pathToken(trackedUrls(email.html!).clicks[0]!);
    const escaped = `%${token.charCodeAt(0).toString(16).toUpperCase()}${token.slice(1)}`;
    const plain = await hit(`${app.url}/t/c/${token}`);
    expect(plain.status).toBe(302);
    for (const path of [`/t/c/${escaped}`, `/t/x/../c/${token}`, `/t/./c/${token}?utm=1`]) {
      const answer = await rawHit(path);
      expect.soft(answer.status, path).toBe(302);
      expect.soft(answer.headers.location, path).toBe(plain.headers.location);
    }
  });
});
