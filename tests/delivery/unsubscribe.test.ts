import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTokenKind, signToken } from '../../src/lib/signed-token.ts';
import { unsubscribeHeaders } from '../../src/modules/unsubscribes/unsubscribe-headers.ts';
import { buildConfirmPage, UNSUBSCRIBE_TEXTS } from '../../src/modules/unsubscribes/unsubscribe-pages.ts';
import { UnsubscribeTokenSchema, unsubscribeToken } from '../../src/modules/unsubscribes/unsubscribe-token.ts';
import { insertLead, insertSend } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

let app: TestApp;
let teamId: string;
beforeAll(async () => {
  app = await startTestApp({ role: 'web' });
  teamId = app.slack.teamId;
});
afterAll(() => app.stop());

const en = UNSUBSCRIBE_TEXTS.en;
const ja = UNSUBSCRIBE_TEXTS.ja;

const tokenFor = (lead: { id: number }, options: { teamId?: string; sendId?: number } = {}) =>
  unsubscribeToken(app.config.trackingSecret, { teamId: options.teamId ?? teamId, leadId: lead.id, ...(options.sendId ? { sendId: options.sendId } : {}) });

interface Page {
  status: number;
  headers: Headers;
  html: string;
  /** What a person reads: tags and the style sheet removed, entities decoded, whitespace collapsed. */
  text: string;
}

async function request(path: string, init: RequestInit = {}): Promise<Page> {
  const response = await fetch(`${app.url}${path}`, { redirect: 'manual', ...init });
  const html = await response.text();
  const text = html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<title>[\s\S]*?<\/title>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
  return { status: response.status, headers: response.headers, html, text };
}

const open = (token: string, headers: Record<string, string> = {}) => request(`/u/${token}`, { headers });
/** The confirm button on the page, as a browser submits it. */
const confirm = (token: string, headers: Record<string, string> = {}) =>
  request(`/u/${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Mozilla/5.0 (test browser)', ...headers }, body: 'confirm=page' });
/** A mail client's RFC 8058 one-click request (no cookies, no session, just the form body). */
const oneClick = (path: string) =>
  request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'GoogleOneClick/1.0' }, body: 'List-Unsubscribe=One-Click' });

const statusOf = async (lead: { id: number }) => (await app.db.sql<{ status: string }[]>`SELECT status FROM leads WHERE id = ${lead.id}`)[0]?.status;
const unsubscribesOf = (lead: { id: number }) =>
  app.db.sql`SELECT team_id, method, send_id, status_before, user_agent FROM unsubscribes WHERE lead_id = ${lead.id} ORDER BY id`;
const unsubscribeEventsOf = (lead: { id: number }) =>
  app.db.sql`SELECT team_id, kind, name, properties, source FROM events WHERE lead_id = ${lead.id} AND name = 'email_unsubscribed'`;

describe('unsubscribe links', () => {
  it('builds the List-Unsubscribe headers and footer link for an email', () => {
    const links = unsubscribeHeaders(app.config, 'abc.def');
    expect(links).toEqual({
      url: 'https://nurture.test/u/abc.def',
      headers: { 'List-Unsubscribe': '<https://nurture.test/u/abc.def>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    });
  });

  it('opening the link shows one confirm button and changes nothing', async () => {
    const lead = await insertLead(app.db.sql, teamId, { email: 'yui.sato@example.co.jp' });
    const page = await open(tokenFor(lead));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(page.text).toBe(`${en.confirmHeading('Nurture Test')} ${en.confirmBody('y•••@example.co.jp')} ${en.confirmButton}`);
    expect(page.html).toContain('<form method="post">');
    expect(page.html.match(/<button/g)).toHaveLength(1);
    // Nothing loaded from elsewhere, no framing, the token not leaked as a referrer, not indexed.
    expect(page.html).not.toMatch(/(src|href)=/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');

    const head = await fetch(`${app.url}/u/${tokenFor(lead)}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await statusOf(lead)).toBe('subscribed');
    expect(await unsubscribesOf(lead)).toEqual([]);
    expect(await unsubscribeEventsOf(lead)).toEqual([]);
  });

  it('the confirm button unsubscribes, records how, and says so', async () => {
    const lead = await insertLead(app.db.sql, teamId);
    const send = await insertSend(app.db.sql, teamId, lead.id);
    const page = await confirm(tokenFor(lead, { sendId: send.id }));
    expect(page.status).toBe(200);
    expect(page.text).toContain(en.doneHeading);
    expect(page.text).toContain(en.doneBody('Nurture Test', `${lead.email[0]}•••@example.com`));
    expect(page.html).not.toContain('<button');
    expect(await statusOf(lead)).toBe('unsubscribed');
    expect(await unsubscribesOf(lead)).toEqual([{ team_id: teamId, method: 'page', send_id: send.id, status_before: 'subscribed', user_agent: 'Mozilla/5.0 (test browser)' }]);
    expect(await unsubscribeEventsOf(lead)).toEqual([
      { team_id: teamId, kind: 'email', name: 'email_unsubscribed', properties: { method: 'page', send_id: send.id }, source: 'unsubscribe' },
    ]);
  });

  it('a mail client one-click POST to the List-Unsubscribe URL unsubscribes at once', async () => {
    const lead = await insertLead(app.db.sql, teamId);
    const { url, headers } = unsubscribeHeaders(app.config, tokenFor(lead));
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const page = await oneClick(new URL(headers['List-Unsubscribe'].slice(1, -1)).pathname);
    expect(new URL(url).pathname).toBe(`/u/${tokenFor(lead)}`);
    expect(page.status).toBe(200);
    expect(await statusOf(lead)).toBe('unsubscribed');
    expect(await unsubscribesOf(lead)).toEqual([expect.objectContaining({ method: 'one_click', send_id: null, user_agent: 'GoogleOneClick/1.0' })]);
    expect(await unsubscribeEventsOf(lead)).toEqual([expect.objectContaining({ properties: { method: 'one_click' } })]);
  });

  it('accepts whatever body a client posts', async () => {
    const bodies: Array<RequestInit> = [
      { body: '' },
      { body: '{"x":1}', headers: { 'content-type': 'application/json' } },
      { body: (() => { const form = new FormData(); form.set('List-Unsubscribe', 'One-Click'); return form; })() },
      { body: 'x'.repeat(100_000), headers: { 'content-type': 'text/plain' } },
    ];
    for (const init of bodies) {
      const lead = await insertLead(app.db.sql, teamId);
      const page = await request(`/u/${tokenFor(lead)}`, { method: 'POST', ...init });
      expect(page.status).toBe(200);
      expect(await statusOf(lead)).toBe('unsubscribed');
    }
  });

  it('unsubscribing again is fine and records nothing new, even when requests race', async () => {
    const lead = await insertLead(app.db.sql, teamId);
    const token = tokenFor(lead);
    // Hold the lead's row so that all four requests are in flight at once, then let them go.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = app.db.sql.begin(async (tx) => {
      await tx`SELECT 1 FROM leads WHERE id = ${lead.id} FOR UPDATE`;
      locked();
      await released;
    });
    await isLocked;
    const requests = Promise.all([oneClick(`/u/${token}`), confirm(token), oneClick(`/u/${token}`), confirm(token)]);
    try {
      await waitFor(
        async () => (await app.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0]!.n >= 4,
        { description: 'four unsubscribe requests waiting on the lead' },
      );
    } finally {
      release();
      await holding;
    }
    const pages = await requests;
    expect(pages.map((page) => page.status)).toEqual([200, 200, 200, 200]);
    expect(pages.filter((page) => page.text.includes(en.doneHeading))).toHaveLength(1);
    expect(pages.filter((page) => page.text.includes(en.alreadyHeading))).toHaveLength(3);
    expect(await unsubscribesOf(lead)).toHaveLength(1);
    expect(await unsubscribeEventsOf(lead)).toHaveLength(1);

    const again = await open(token);
    expect(again.text).toContain(en.alreadyHeading);
    expect(again.html).not.toContain('<button');
  });

  it('a bounced or complained lead keeps that status; the request is still recorded once', async () => {
    for (const status of ['bounced', 'complained'] as const) {
      const lead = await insertLead(app.db.sql, teamId, { status });
      expect((await open(tokenFor(lead))).text).toContain(en.confirmButton);
      expect((await confirm(tokenFor(lead))).text).toContain(en.doneHeading);
      expect((await oneClick(`/u/${tokenFor(lead)}`)).text).toContain(en.alreadyHeading);
      expect(await statusOf(lead)).toBe(status);
      expect(await unsubscribesOf(lead)).toEqual([expect.objectContaining({ method: 'page', status_before: status })]);
      expect(await unsubscribeEventsOf(lead)).toEqual([expect.objectContaining({ properties: { method: 'page', status } })]);
    }
  });

  it('speaks Japanese to a Japanese lead, and to a Japanese browser', async () => {
    const lead = await insertLead(app.db.sql, teamId, { email: 'yui@example.co.jp', locale: 'ja-JP' });
    const page = await open(tokenFor(lead));
    expect(page.html).toContain('<html lang="ja">');
    expect(page.text).toBe(`${ja.confirmHeading('Nurture Test')} ${ja.confirmBody('y•••@example.co.jp')} ${ja.confirmButton}`);
    expect((await confirm(tokenFor(lead))).text).toContain('配信を停止しました');

    const unknown = await open('nonsense', { 'accept-language': 'ja,en-US;q=0.8' });
    expect(unknown.html).toContain('<html lang="ja">');
    expect(unknown.text).toBe(`${ja.invalidHeading} ${ja.invalidBody}`);
  });

  it('answers a bad, tampered, foreign or truncated link with a plain error page and changes nothing', async () => {
    const lead = await insertLead(app.db.sql, teamId);
    const token = tokenFor(lead);
    const [, signature] = token.split('.');
    const otherLead = await insertLead(app.db.sql, teamId);
    const tampered = `${Buffer.from(JSON.stringify({ w: teamId, l: otherLead.id })).toString('base64url')}.${signature}`;
    const trackingToken = signToken(app.config.trackingSecret, defineTokenKind('click', UnsubscribeTokenSchema), { w: teamId, l: lead.id });
    const otherSecret = unsubscribeToken('another-tracking-secret-0123456789abcdef', { teamId, leadId: lead.id });

    for (const bad of ['nonsense', token.slice(0, -5), tampered, trackingToken, otherSecret, '%E0%A4%A', `${token}%00`]) {
      for (const page of [await open(bad), await oneClick(`/u/${bad}`)]) {
        expect(page.status, bad).toBe(400);
        expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(page.text).toBe(`${en.invalidHeading} ${en.invalidBody}`);
      }
    }
    expect(await statusOf(lead)).toBe('subscribed');
    expect(await statusOf(otherLead)).toBe('subscribed');
    expect(app.logs.filter((line) => line.level >= 50)).toEqual([]);
  });

  it('a link to a lead that no longer exists says so', async () => {
    const lead = await insertLead(app.db.sql, teamId);
    await app.db.sql`DELETE FROM leads WHERE id = ${lead.id}`;
    for (const page of [await open(tokenFor(lead)), await confirm(tokenFor(lead))]) {
      expect(page.status).toBe(404);
      expect(page.text).toBe(`${en.unknownHeading} ${en.unknownBody}`);
    }
  });

  it('a link only reaches a lead of the workspace it was made for', async () => {
    const ours = await insertLead(app.db.sql, teamId);
    const theirs = await insertLead(app.db.sql, 'T0OTHER');
    // A link signed for the other workspace that names our lead's id finds nothing there.
    const crossed = tokenFor(ours, { teamId: 'T0OTHER' });
    expect((await confirm(crossed)).status).toBe(404);
    expect(await statusOf(ours)).toBe('subscribed');

    expect((await confirm(tokenFor(theirs, { teamId: 'T0OTHER' }))).status).toBe(200);
    expect(await statusOf(theirs)).toBe('unsubscribed');
    expect(await unsubscribeEventsOf(theirs)).toEqual([expect.objectContaining({ team_id: 'T0OTHER' })]);
    expect(await statusOf(ours)).toBe('subscribed');
  });

  it('escapes everything it puts in a page', () => {
    const html = buildConfirmPage({ lang: 'en', sender: '<script>alert("x")</script> & Co', maskedEmail: "o'•••@example.com" });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    expect(html).toContain('o&#39;•••@example.com');
  });
});
