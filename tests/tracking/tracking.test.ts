import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/lib/signed-token.ts';
import { compileTemplate } from '../../src/modules/templates/compile-template.ts';
import { emailTracking } from '../../src/modules/tracking/email-tracking.ts';
import { audienceIds } from '../../src/modules/segments/queries.ts';
import { RuleSchema } from '../../src/modules/segments/rule.ts';
import { PIXEL_GIF } from '../../src/modules/tracking/tracking-routes.ts';
import { LINK_TOKEN, readClickToken, readVisitorToken, signLinkToken, VISITOR_PARAMETER } from '../../src/modules/tracking/tracking-tokens.ts';
import { unsubscribeToken } from '../../src/modules/unsubscribes/unsubscribe-token.ts';
import type { ManualClock } from '../support/manual-clock.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { eventsOf, hit, HUMAN_UA, local, PRICING, sendTo, SENT_AT, startTrackingApp, TEAM, trackedUrls, type StoredEvent } from './tracking-support.ts';

let app: TestApp;
let clock: ManualClock;
beforeAll(async () => {
  ({ app, clock } = await startTrackingApp());
});
afterAll(async () => {
  await app?.stop();
});


/** Waits until the lead has `count` stored events. */
async function storedEvents(leadId: number, count: number): Promise<StoredEvent[]> {
  return waitFor(async () => {
    const events = await eventsOf(app, leadId);
    return events.length >= count ? events : undefined;
  }, { description: `${count} stored events of lead ${leadId}` });
}

async function ledger(sendId: number) {
  const [row] = await app.db.sql<{ opened_at: Date | null; clicked_at: Date | null }[]>`SELECT opened_at, clicked_at FROM email_sends WHERE id = ${sendId}`;
  return row!;
}

/** Splits a click path `/t/c/<link body>.<link sig>.<email body>.<email sig>`. */
function clickParts(url: string) {
  const token = new URL(url).pathname.slice('/t/c/'.length);
  const [lb, ls, eb, es] = token.split('.') as [string, string, string, string];
  return { link: `${lb}.${ls}`, email: `${eb}.${es}` };
}

/** The lead's score reasons, once scored (scoring runs in a job after the events are stored). */
async function scoreReasons(leadId: number): Promise<Array<{ kind: string; count: number }> | undefined> {
  const [row] = await app.db.sql<{ reasons: Array<{ kind: string; count: number }> }[]>`SELECT reasons FROM lead_scores WHERE lead_id = ${leadId}`;
  return row?.reasons;
}

describe('links and the pixel at send time', () => {
  it('points every web link of both parts through /t/c/, keeps unsubscribe and mailto links, and adds a pixel and a hidden link to the HTML', async () => {
    const { email } = await sendTo(app, 1);
    const { clicks, pixel, hidden } = trackedUrls(email.html!);
    // Pricing twice and the merge-field link: three anchors, all tracked; none shows the address itself.
    expect(clicks).toHaveLength(3);
    expect(email.html).not.toContain('href="https://shop.example.com');
    expect(email.html).toContain('href="mailto:sales@example.com"');
    expect(email.html).toMatch(/href="https:\/\/nurture\.test\/u\/[^"]+"/);
    expect(pixel).toMatch(/^https:\/\/nurture\.test\/t\/o\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.gif$/);
    expect(hidden).toMatch(/^https:\/\/nurture\.test\/t\/c\//);
    // The two pricing links share their link token; one email token for everything.
    expect(clickParts(clicks[0]!).link).toBe(clickParts(clicks[2]!).link);
    expect(new Set(clicks.map((url) => clickParts(url).email)).size).toBe(1);

    expect(email.text).not.toContain('https://shop.example.com');
    expect(email.text).toContain('sales@example.com');
    expect(email.text).toMatch(/Unsubscribe: https:\/\/nurture\.test\/u\//);
    expect(email.text!.match(/https:\/\/nurture\.test\/t\/c\/[A-Za-z0-9_.-]+/g)).toEqual(clicks);
  });
});

describe('GET /t/c/…', () => {
  it('redirects 302 to the destination with a visitor id, stores a human click with its labels, and dates the first click on the ledger', async () => {
    const { email, leadId, sendId } = await sendTo(app, 1);
    clock.advance({ minutes: 30 });
    const click = trackedUrls(email.html!).clicks[0]!;
    const answer = await hit(local(app, click));
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe('https://shop.example.com/pricing');
    expect(location.searchParams.get('plan')).toBe('pro');
    expect(location.searchParams.get('ref')).toBe('mail');
    expect(location.hash).toBe('#top');
    // The visitor id is the click's own email token (nothing signed per click), and reads as the lead.
    expect(location.searchParams.get(VISITOR_PARAMETER)).toBe(clickParts(click).email);
    expect(readVisitorToken(app.config.trackingSecret, location.searchParams.get(VISITOR_PARAMETER)!)).toEqual({ w: TEAM, l: leadId });

    const [event] = await storedEvents(leadId, 1);
    expect(event).toMatchObject({ name: 'email_clicked', verdict: 'human', verdict_reason: null, source: 'tracking' });
    expect(event!.properties).toEqual({ send_id: sendId, message: 'Launch', sequence: 'Onboarding', url: PRICING });
    expect((await ledger(sendId)).clicked_at?.toISOString()).toBe(clock.now().toISOString());
  });

  it('stores labels with quotes and backslashes as written', async () => {
    const { email, leadId, sendId } = await sendTo(app, 2);
    clock.advance({ minutes: 30 });
    expect((await hit(local(app, trackedUrls(email.html!).clicks[0]!))).status).toBe(302);
    const [event] = await storedEvents(leadId, 1);
    expect(event!.properties).toEqual({ send_id: sendId, message: 'Other', sequence: 'Nurture "Q4" \\ EMEA', url: 'https://shop.example.com/guide' });
  });

  it('signs a merge-field link for the email: the redirect goes to the lead’s own address', async () => {
    const { email, leadId } = await sendTo(app, 1, { company: 'kojo' });
    clock.advance({ minutes: 30 });
    const answer = await hit(local(app, trackedUrls(email.html!).clicks[1]!));
    expect(answer.status).toBe(302);
    expect((answer.headers.location as string).split('?')[0]).toBe('https://shop.example.com/c/kojo');
    const [event] = await storedEvents(leadId, 1);
    expect(event!.properties.url).toBe('https://shop.example.com/c/kojo');
  });

  it('refuses tampered, swapped, foreign-purpose and mixed tokens with a plain 400 page, never a redirect, and stores nothing', async () => {
    const one = await sendTo(app, 1);
    const other = await sendTo(app, 2);
    const secret = app.config.trackingSecret;
    const url = trackedUrls(one.email.html!).clicks[0]!;
    const { link, email } = clickParts(url);
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const otherEmail = clickParts(trackedUrls(other.email.html!).clicks[0]!).email;
    const forged = signToken('not-our-secret-0123456789abcdef0123', LINK_TOKEN, { v: 'x', u: 'https://evil.example/' });
    const attempts = [
      `${flip(link, 5)}.${email}`, // a flipped character in the link's payload
      `${link}.${flip(email, 10)}`, // … in the email's
      `${flip(link, link.length - 3)}.${email}`, // … in a signature
      `${email}.${link}`, // swapped parts
      `${link}.${unsubscribeToken(secret, { teamId: TEAM, leadId: one.leadId, sendId: one.sendId })}`, // another purpose
      `${signToken(secret, { purpose: 'tracking.email', schema: LINK_TOKEN.schema }, { v: 'x', u: 'https://evil.example/' })}.${email}`, // an email-purpose token as link
      `${signLinkToken(secret, { v: 'another-version', u: 'https://evil.example/' })}.${email}`, // a genuine link token of another template version
      `${link}.${otherEmail}`, // a link of one template with the email token of another
      `${forged}.${email}`, // signed with another secret
      link, // half a click
      '//evil.example',
      'https:%2F%2Fevil.example',
    ];
    for (const token of attempts) {
      const answer = await hit(`${app.url}/t/c/${encodeURIComponent(token).replaceAll('%2F', '/')}`);
      expect.soft(answer.status, token).toBeGreaterThanOrEqual(400);
      expect.soft(answer.status, token).toBeLessThan(500);
      expect.soft(answer.headers.location, token).toBeUndefined();
    }
    const protocolRelative = await hit(`${app.url}/t/c//evil.example`);
    expect(protocolRelative.headers.location).toBeUndefined();
    expect((await hit(`${app.url}/t/c/${link}.${email}?u=https://evil.example`)).headers.location).not.toContain('evil');
    // The genuine clicks (one with a stray parameter, which changes nothing) are the only events stored.
    await hit(local(app, url), { headers: { 'user-agent': HUMAN_UA } });
    const events = await storedEvents(one.leadId, 2);
    expect(events.map((event) => event.properties.url)).toEqual([PRICING, PRICING]);
    expect(await eventsOf(app, other.leadId)).toEqual([]);
  });

  it('answers HEAD with the same redirect and records it as a machine', async () => {
    const { email, leadId, sendId } = await sendTo(app, 1);
    clock.advance({ minutes: 30 });
    const answer = await hit(local(app, trackedUrls(email.html!).clicks[0]!), { method: 'HEAD' });
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toContain('https://shop.example.com/pricing');
    const [event] = await storedEvents(leadId, 1);
    expect(event).toMatchObject({ name: 'email_clicked', verdict: 'machine', verdict_reason: 'HEAD request' });
    expect((await ledger(sendId)).clicked_at).toBeNull();
  });

  it('tells bots by their user agent: a crawler’s click is a machine’s, and leaves the ledger alone', async () => {
    const { email, leadId, sendId } = await sendTo(app, 1);
    clock.advance({ minutes: 30 });
    await hit(local(app, trackedUrls(email.html!).clicks[0]!), { headers: { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' } });
    const [event] = await storedEvents(leadId, 1);
    expect(event).toMatchObject({ verdict: 'machine', verdict_reason: 'known bot' });
    expect((await ledger(sendId)).clicked_at).toBeNull();
  });
});

describe('GET /t/o/….gif', () => {
  it('always answers the GIF, uncacheable; a valid token stores a human open and dates it on the ledger', async () => {
    const { email, leadId, sendId } = await sendTo(app, 1);
    clock.advance({ minutes: 5 });
    const answer = await hit(local(app, trackedUrls(email.html!).pixel));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('image/gif');
    expect(answer.headers['cache-control']).toContain('no-store');
    expect(answer.body.equals(PIXEL_GIF)).toBe(true);
    const [event] = await storedEvents(leadId, 1);
    expect(event).toMatchObject({ name: 'email_opened', verdict: 'human', verdict_reason: null });
    expect(event!.properties).toEqual({ send_id: sendId, message: 'Launch', sequence: 'Onboarding' });
    expect((await ledger(sendId)).opened_at?.toISOString()).toBe(clock.now().toISOString());
    // The person's open scores (in a job after it is stored).
    const reasons = await waitFor(async () => (await scoreReasons(leadId)) ?? false, { description: 'the open to be scored' });
    expect(reasons).toEqual([expect.objectContaining({ kind: 'open', count: 1 })]);
  });

  it('serves the GIF for a tampered, unknown or missing token too, and stores nothing', async () => {
    const { email, leadId } = await sendTo(app, 1);
    const pixel = new URL(trackedUrls(email.html!).pixel).pathname;
    for (const path of [pixel.replace(/\.([A-Za-z0-9_-])/, (_m, c: string) => `.${c === 'a' ? 'b' : 'a'}`), '/t/o/nothing.gif', '/t/o/x', pixel.replace('.gif', '.png')]) {
      const answer = await hit(`${app.url}${path}`);
      expect.soft(answer.status, path).toBe(200);
      expect.soft(answer.body.equals(PIXEL_GIF), path).toBe(true);
    }
    // A real open afterwards is the only event.
    await hit(`${app.url}${pixel}`);
    expect((await storedEvents(leadId, 1)).map((event) => event.name)).toEqual(['email_opened']);
  });

  it('answers HEAD, and marks Apple Mail Privacy Protection’s prefetch (Apple’s network, bare user agent) as a privacy-proxy open', async () => {
    const { email, leadId, sendId } = await sendTo(app, 1);
    const pixel = local(app, trackedUrls(email.html!).pixel);
    const head = await hit(pixel, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('image/gif');
    await hit(pixel, { headers: { 'user-agent': 'Mozilla/5.0', 'x-forwarded-for': '17.58.63.11, 10.0.0.1' } });
    const events = await storedEvents(leadId, 2);
    expect(events.map((event) => [event.verdict, event.verdict_reason]).sort()).toEqual([
      ['machine', 'HEAD request'],
      ['machine', 'privacy proxy (Apple Mail Privacy Protection)'],
    ]);
    expect((await ledger(sendId)).opened_at).toBeNull();
  });
});

describe('security scanners', () => {
  it('a click within seconds of sending is a scanner’s', async () => {
    const { email, leadId } = await sendTo(app, 1);
    clock.advance({ minutes: 0 });
    await hit(local(app, trackedUrls(email.html!).clicks[0]!));
    const [event] = await storedEvents(leadId, 1);
    expect(event).toMatchObject({ verdict: 'machine', verdict_reason: 'clicked within seconds of sending' });
  });

  it('every link of an email clicked at once is a scanner’s; a person’s click of the same email later still counts', async () => {
    const { email, leadId, sendId } = await sendTo(app, 1);
    clock.advance({ minutes: 30 });
    const [pricing, page] = trackedUrls(email.html!).clicks;
    await hit(local(app, pricing!));
    // Let the first click be written before the burst completes: the correction reaches stored events too.
    await storedEvents(leadId, 1);
    await hit(local(app, page!));
    await waitFor(async () => (await eventsOf(app, leadId)).every((event) => event.verdict === 'machine') && (await eventsOf(app, leadId)).length === 2, {
      description: 'both clicks judged a scanner’s',
    });
    expect((await eventsOf(app, leadId)).map((event) => event.verdict_reason)).toEqual(['every link clicked at once', 'every link clicked at once']);
    expect((await ledger(sendId)).clicked_at).toBeNull();

    const later = clock.advance({ minutes: 2 });
    await hit(local(app, pricing!));
    const events = await storedEvents(leadId, 3);
    expect(events[2]).toMatchObject({ verdict: 'human', verdict_reason: null });
    expect((await ledger(sendId)).clicked_at?.toISOString()).toBe(later.toISOString());

    // Only the person's click scores: the scanner's first click, stored as a person's before the burst
    // showed, was held back from scoring until the burst window had passed.
    const reasons = await waitFor(async () => (await scoreReasons(leadId)) ?? false, { description: 'the person’s click to be scored', timeoutMs: 10_000 });
    expect(reasons.filter((reason) => reason.kind === 'click')).toEqual([expect.objectContaining({ count: 1 })]);
    expect(reasons.reduce((sum, reason) => sum + reason.count, 0)).toBe(1);
  });

  it('any click on the hidden link is a machine’s, and goes nowhere', async () => {
    const { email, leadId } = await sendTo(app, 1);
    clock.advance({ minutes: 30 });
    const answer = await hit(local(app, trackedUrls(email.html!).hidden));
    expect(answer.status).toBe(200);
    expect(answer.headers.location).toBeUndefined();
    const [event] = await storedEvents(leadId, 1);
    expect(event).toMatchObject({ name: 'email_clicked', verdict: 'machine', verdict_reason: 'hidden link' });
    expect(event!.properties.url).toBeUndefined();
  });
});

describe('segments', () => {
  it('`opened` and `clicked` see only people: a lead with machine activity alone is left out', async () => {
    const person = await sendTo(app, 2);
    const scanned = await sendTo(app, 2);
    clock.advance({ minutes: 30 });
    const personUrls = trackedUrls(person.email.html!);
    const scannedUrls = trackedUrls(scanned.email.html!);
    await hit(local(app, personUrls.pixel));
    await hit(local(app, personUrls.clicks[0]!));
    await hit(local(app, scannedUrls.pixel), { headers: { 'user-agent': 'Mozilla/5.0', 'x-forwarded-for': '17.1.2.3' } });
    await hit(local(app, scannedUrls.hidden));
    await hit(local(app, scannedUrls.clicks[0]!), { method: 'HEAD' });
    await storedEvents(person.leadId, 2);
    await storedEvents(scanned.leadId, 3);
    for (const behaviour of ['email_opened', 'email_clicked'] as const) {
      const rule = RuleSchema.parse({ type: 'behaviour', behaviour, message: 'Other' });
      const members = await app.db.sql<{ lead_id: number }[]>`${audienceIds(app.db.sql, rule, { teamId: TEAM, now: clock.now() }, { purpose: 'reporting' })}`;
      // Other tests' leads get Other too: these two are the ones in question.
      const ours = members.map((row) => Number(row.lead_id)).filter((id) => id === person.leadId || id === scanned.leadId);
      expect(ours, behaviour).toEqual([person.leadId]);
    }
  });
});

describe('templates beyond merge fields', () => {
  it('a link inside a Liquid tag is tracked too, and a preview (no tracking) shows the addresses as written', async () => {
    const template = compileTemplate({ name: 'Tagged', stage: 'awareness', subject: 'Hi', preheader: '', body: '{% if company %}See [your page](https://shop.example.com/c/{{ company | upcase }}).{% endif %}' });
    const lead = { id: 7, email: 'a@example.com', first_name: null, last_name: null, company: 'kojo', title: null, industry: null, stage: 'awareness', attributes: {} };
    const footer = { senderName: 'Acme', postalAddress: '1 Main St', unsubscribeUrl: 'https://nurture.test/u/x' };
    const preview = template.render(lead, footer);
    expect(preview.html).toContain('href="https://shop.example.com/c/KOJO"');
    expect(preview.html).not.toContain('/t/o/');
    expect(preview.text).toContain('(https://shop.example.com/c/KOJO)');

    const tracking = emailTracking(app.config, template, { teamId: TEAM, sendId: 1, leadId: 7, sentAt: new Date(SENT_AT) });
    const sent = template.render(lead, footer, tracking);
    const [click] = trackedUrls(sent.html).clicks;
    expect(readClickToken(app.config.trackingSecret, new URL(click!).pathname.slice('/t/c/'.length))?.link).toEqual({ v: template.version, u: 'https://shop.example.com/c/KOJO' });
  });
});
