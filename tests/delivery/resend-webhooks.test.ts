import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailLabels } from '../../src/modules/delivery/email-source.ts';
import { pruneWebhooksQueue } from '../../src/modules/resend-webhooks/prune-webhooks-queue.ts';
import { NO_WEBHOOK_SECRET, WEBHOOK_BODY_LIMIT_BYTES } from '../../src/modules/resend-webhooks/resend-webhook-route.ts';
import { countAudience } from '../../src/modules/segments/queries.ts';
import { insertLead, insertSend } from '../support/factories.ts';
import { buildResendEvent, newWebhookSecret, postResendWebhook, signResendWebhook, type PostWebhookOptions, type WebhookEmail } from '../support/resend-webhooks.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

let app: TestApp;
let teamId: string;
const secret = newWebhookSecret();

beforeAll(async () => {
  app = await startTestApp({ env: { RESEND_WEBHOOK_SECRET: secret, LOG_LEVEL: 'debug' } });
  teamId = app.slack.teamId;
});
afterAll(() => app.stop());

const newSvixId = () => `msg_${randomUUID().replaceAll('-', '').slice(0, 27)}`;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

interface Sent {
  lead: { id: number; email: string };
  send: { id: number };
  /** How the email's source names it on events (`message`, `sequence`). */
  labels: EmailLabels;
  /** The email as Resend knows it: its id and the tags the pipeline put on it. */
  email: WebhookEmail;
}

/** A lead with one newsletter email Resend accepted (its id recorded in the ledger), unless told otherwise. */
async function sentEmail(options: { team?: string; leadStatus?: string; state?: string; recordProviderId?: boolean } = {}): Promise<Sent> {
  const team = options.team ?? teamId;
  const lead = await insertLead(app.db.sql, team, options.leadStatus ? { status: options.leadStatus } : {});
  const providerId = randomUUID();
  const send = await insertSend(app.db.sql, team, lead.id, {
    state: options.state ?? 'accepted',
    ...(options.recordProviderId === false ? {} : { providerId }),
  });
  const email: WebhookEmail = {
    id: providerId,
    from: 'Nurture Test <news@test.example>',
    to: lead.email,
    subject: 'November news',
    tags: [
      { name: 'nurture_send', value: String(send.id) },
      { name: 'nurture_team', value: team },
    ],
  };
  return { lead, send, email, labels: await labelsOf(team) };
}

/** The ledger rows here are newsletter 1's: labelled by the registered newsletter source, or by kind and id without one. */
const labelsOf = async (team: string): Promise<EmailLabels> =>
  (await app.nurture.services.emailSources.get('newsletter')?.labels(app.db.sql, team, 1, 0)) ?? { message: 'newsletter 1' };

const url = () => `${app.url}/webhooks/resend`;
const post = (payload: object | string, options: Partial<PostWebhookOptions> = {}) => postResendWebhook(url(), payload, { secret, ...options });

interface WebhookRow {
  team_id: string | null;
  event_type: string;
  processed_at: Date | null;
  outcome: string | null;
}
const webhookRow = async (svixId: string) =>
  (await app.db.sql<WebhookRow[]>`SELECT team_id, event_type, processed_at, outcome FROM resend_webhooks WHERE svix_id = ${svixId}`)[0];

/** Posts the event (200 expected) and waits until its job has processed it. */
async function deliver(payload: object, options: Partial<PostWebhookOptions> = {}): Promise<WebhookRow & { svixId: string }> {
  const svixId = options.id ?? newSvixId();
  const response = await post(payload, { ...options, id: svixId });
  expect(response.status).toBe(200);
  const row = await waitFor(async () => {
    const stored = await webhookRow(svixId);
    return stored?.processed_at ? stored : undefined;
  }, { description: `webhook ${svixId} processed`, timeoutMs: 10_000 });
  return { ...row, svixId };
}

const sendRow = async (send: { id: number }) =>
  (await app.db.sql<{ state: string; delivered_at: Date | null; opened_at: Date | null; clicked_at: Date | null; soft_bounces: number; provider_id: string | null }[]>`
    SELECT state, delivered_at, opened_at, clicked_at, soft_bounces, provider_id FROM email_sends WHERE id = ${send.id}`)[0]!;
const leadStatus = async (lead: { id: number }) => (await app.db.sql<{ status: string }[]>`SELECT status FROM leads WHERE id = ${lead.id}`)[0]!.status;
const eventsOf = (lead: { id: number }) =>
  app.db.sql<{ team_id: string; kind: string; name: string; properties: Record<string, unknown>; source: string; dedupe_key: string; occurred_at: Date }[]>`
    SELECT team_id, kind, name, properties, source, dedupe_key, occurred_at FROM events WHERE lead_id = ${lead.id} ORDER BY occurred_at, id`;
const answerOf = async (response: Response) => (await response.json()) as { error?: string; problems?: string[] };
const storedCount = async (svixId: string) => (await app.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM resend_webhooks WHERE svix_id = ${svixId}`)[0]!.n;
const jobsFor = async (svixId: string) =>
  (await app.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'delivery.process-webhook' AND data ->> 'svixId' = ${svixId}`)[0]!.n;

describe('POST /webhooks/resend: what it refuses', () => {
  it('refuses a bad signature, a tampered body, missing headers and a stale timestamp with 401, storing nothing', async () => {
    const { email } = await sentEmail();
    const event = buildResendEvent('email.delivered', email);
    const attempts: Array<[Partial<PostWebhookOptions>, RegExp]> = [
      [{ signWith: newWebhookSecret() }, /signature/],
      [{ tamper: true }, /signature/],
      [{ stale: true }, /timestamp too old/],
      [{ timestamp: new Date(Date.now() + 10 * 60_000) }, /timestamp too new/],
    ];
    for (const [options, reason] of attempts) {
      const svixId = newSvixId();
      const response = await post(event, { ...options, id: svixId });
      expect(response.status, JSON.stringify(options)).toBe(401);
      expect((await answerOf(response)).error).toMatch(reason);
      expect(await storedCount(svixId)).toBe(0);
    }

    const body = JSON.stringify(event);
    const signed = signResendWebhook({ secret, id: newSvixId(), body });
    for (const missing of ['svix-id', 'svix-timestamp', 'svix-signature'] as const) {
      const headers: Record<string, string> = { ...signed, 'content-type': 'application/json' };
      delete headers[missing];
      const response = await fetch(url(), { method: 'POST', headers, body });
      expect(response.status, missing).toBe(401);
      expect(await response.json()).toEqual({ error: 'missing svix-id, svix-timestamp or svix-signature header' });
    }
    expect(await storedCount(signed['svix-id'])).toBe(0);
  });

  it('refuses a signed body that is not JSON or not a Resend event with 400 and the reason', async () => {
    const notJson = newSvixId();
    const response = await post('{"type": "email.delivered", ', { id: notJson });
    expect(response.status).toBe(400);
    expect((await answerOf(response)).error).toMatch(/^the body is not valid JSON/);
    expect(await storedCount(notJson)).toBe(0);

    const { email } = await sentEmail();
    const event = buildResendEvent('email.clicked', email, { link: 'https://example.com/x' }) as unknown as { data: Record<string, unknown> };
    const withoutLink = { ...event, data: { ...event.data, click: {} } };
    const noLink = newSvixId();
    const refused = await post(withoutLink, { id: noLink });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'not a Resend webhook payload', problems: ['data.click.link: Invalid input: expected string, received undefined'] });
    expect(await storedCount(noLink)).toBe(0);

    const noType = await post({ created_at: new Date().toISOString(), data: {} });
    expect(noType.status).toBe(400);
    expect((await answerOf(noType)).problems).toEqual(['type: Invalid input: expected string, received undefined']);
  });

  it('refuses a body over the limit with 413', async () => {
    const { email } = await sentEmail();
    const event = { ...buildResendEvent('email.delivered', email), padding: 'x'.repeat(WEBHOOK_BODY_LIMIT_BYTES) };
    const svixId = newSvixId();
    const response = await post(event, { id: svixId });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'the body is larger than 256 kB' });
    expect(await storedCount(svixId)).toBe(0);
  });

  it('answers 503 with the reason when RESEND_WEBHOOK_SECRET is not set, and warns once', async () => {
    const bare = await startTestApp({ role: 'web', db: app.db });
    try {
      const { email } = await sentEmail();
      const svixId = newSvixId();
      for (let attempt = 0; attempt < 3; attempt++) {
        const response = await postResendWebhook(`${bare.url}/webhooks/resend`, buildResendEvent('email.delivered', email), { secret, id: svixId });
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ error: NO_WEBHOOK_SECRET });
      }
      expect(bare.logs.filter((line) => line.level === 40 && String(line.msg).includes('RESEND_WEBHOOK_SECRET is not set'))).toHaveLength(1);
      expect(await storedCount(svixId)).toBe(0);
    } finally {
      await bare.stop();
    }
  });

  it('stores event types it does not act on and acknowledges them without processing', async () => {
    const svixId = newSvixId();
    const response = await post({ type: 'contact.created', created_at: new Date().toISOString(), data: { id: 'c1', audience_id: 'a1' } }, { id: svixId });
    expect(response.status).toBe(200);
    expect(await webhookRow(svixId)).toMatchObject({ event_type: 'contact.created', outcome: 'ignored', processed_at: expect.any(Date) });
    expect(await jobsFor(svixId)).toBe(0);
  });
});

describe('POST /webhooks/resend: once per svix-id', () => {
  it('acknowledges a redelivery without processing it again', async () => {
    const { email, lead } = await sentEmail();
    const event = buildResendEvent('email.delivered', email);
    const first = await deliver(event);
    expect(first).toMatchObject({ outcome: 'applied', team_id: teamId });

    const again = await post(event, { id: first.svixId });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect(await jobsFor(first.svixId)).toBe(1);
    expect((await eventsOf(lead)).map((row) => row.name)).toEqual(['email_delivered']);
  });

  it('queues again a redelivery of a webhook stored but never processed (its first job was not queued)', async () => {
    const { email, send } = await sentEmail();
    const event = buildResendEvent('email.delivered', email);
    const svixId = newSvixId();
    // As the first delivery left it when queueing failed after the insert (it answered 503).
    await app.db.sql`INSERT INTO resend_webhooks (svix_id, team_id, event_type, payload) VALUES (${svixId}, ${teamId}, 'email.delivered', ${app.db.sql.json(event as never)})`;

    const row = await deliver(event, { id: svixId });
    expect(row.outcome).toBe('applied');
    expect((await sendRow(send)).state).toBe('delivered');
  });

  it('keeps the workspace of the nurture_team tag only when that workspace exists', async () => {
    const { email } = await sentEmail();
    const stranger = { ...email, id: randomUUID(), tags: { nurture_team: 'T0NOSUCHTEAM', nurture_send: '1' } };
    const svixId = newSvixId();
    expect((await post(buildResendEvent('email.delivered', stranger, { at: minutesAgo(10) }), { id: svixId })).status).toBe(200);
    expect(await webhookRow(svixId)).toMatchObject({ team_id: null });
  });
});

describe('delivery.process-webhook: the ledger, the lead and the event log', () => {
  it('delivered: the row is delivered and the lead gets an email_delivered event', async () => {
    const { email, lead, send, labels } = await sentEmail();
    const at = minutesAgo(1);
    const { svixId } = await deliver(buildResendEvent('email.delivered', email, { at }));
    expect(await sendRow(send)).toMatchObject({ state: 'delivered', delivered_at: at, opened_at: null, soft_bounces: 0 });
    expect(await eventsOf(lead)).toEqual([
      {
        team_id: teamId,
        kind: 'email',
        name: 'email_delivered',
        properties: { ...labels, send_id: send.id },
        source: 'resend',
        dedupe_key: `resend:${svixId}`,
        occurred_at: at,
      },
    ]);
    expect(await leadStatus(lead)).toBe('subscribed');
  });

  it('delivery delayed: the row says so and the delay is counted', async () => {
    const { email, lead, send } = await sentEmail();
    await deliver(buildResendEvent('email.delivery_delayed', email));
    await deliver(buildResendEvent('email.delivery_delayed', email));
    expect(await sendRow(send)).toMatchObject({ state: 'delivery_delayed', soft_bounces: 2 });
    await deliver(buildResendEvent('email.delivered', email));
    expect(await sendRow(send)).toMatchObject({ state: 'delivered', soft_bounces: 2 });
    expect((await eventsOf(lead)).map((row) => row.name)).toEqual(['email_delivery_delayed', 'email_delivery_delayed', 'email_delivered']);
  });

  it('hard bounce: the row and the lead are bounced, an unsubscribed lead too', async () => {
    for (const status of ['subscribed', 'unsubscribed']) {
      const { email, lead, send, labels } = await sentEmail({ leadStatus: status, state: 'delivered' });
      const row = await deliver(buildResendEvent('email.bounced', email, { bounceType: 'hard', subType: 'General' }));
      expect(row.outcome).toBe('applied');
      expect((await sendRow(send)).state).toBe('bounced');
      expect(await leadStatus(lead)).toBe('bounced');
      expect(await eventsOf(lead)).toMatchObject([{ name: 'email_bounced', properties: { ...labels, send_id: send.id, bounce_type: 'hard' } }]);
    }
  });

  it('hard bounce: a lead who complained stays complained', async () => {
    const { email, lead } = await sentEmail({ leadStatus: 'complained' });
    await deliver(buildResendEvent('email.bounced', email, { bounceType: 'hard' }));
    expect(await leadStatus(lead)).toBe('complained');
  });

  it('soft bounce: counted, the row keeps its state and the lead stays subscribed', async () => {
    const { email, lead, send } = await sentEmail();
    const row = await deliver(buildResendEvent('email.bounced', email, { bounceType: 'soft', subType: 'MailboxFull' }));
    expect(row.outcome).toBe('applied');
    expect(await sendRow(send)).toMatchObject({ state: 'accepted', soft_bounces: 1 });
    expect(await leadStatus(lead)).toBe('subscribed');
    expect(await eventsOf(lead)).toMatchObject([{ name: 'email_bounced', properties: { bounce_type: 'soft' } }]);
  });

  it('complaint: the row and the lead are complained, even after a bounce', async () => {
    const { email, lead, send } = await sentEmail({ state: 'delivered' });
    await deliver(buildResendEvent('email.complained', email));
    expect((await sendRow(send)).state).toBe('complained');
    expect(await leadStatus(lead)).toBe('complained');

    const bounced = await sentEmail({ leadStatus: 'bounced', state: 'bounced' });
    const row = await deliver(buildResendEvent('email.complained', bounced.email));
    // The row's bounce is final; the person's complaint still stops all mail to them.
    expect(row.outcome).toBe('applied');
    expect((await sendRow(bounced.send)).state).toBe('bounced');
    expect(await leadStatus(bounced.lead)).toBe('complained');
  });

  it('opened: Resend’s own open is kept under its own name and dates nothing (Nurture’s tracking counts opens)', async () => {
    const { email, lead, send, labels } = await sentEmail({ state: 'delivered' });
    expect((await deliver(buildResendEvent('email.opened', email, { at: minutesAgo(3) }))).outcome).toBe('applied');
    expect((await deliver(buildResendEvent('email.opened', email, { at: minutesAgo(1) }))).outcome).toBe('applied');
    expect(await sendRow(send)).toMatchObject({ state: 'delivered', opened_at: null, clicked_at: null });
    expect((await eventsOf(lead)).map((row) => [row.name, row.properties])).toEqual([
      ['resend_email_opened', { ...labels, send_id: send.id }],
      ['resend_email_opened', { ...labels, send_id: send.id }],
    ]);
  });

  it('clicked: Resend’s own click keeps its link under its own name, and a segment on clicks does not count it twice', async () => {
    const { email, lead, send, labels } = await sentEmail({ state: 'delivered' });
    const link = `https://example.com/pricing?campaign=${randomUUID()}`;
    await deliver(buildResendEvent('email.clicked', email, { link, at: minutesAgo(2) }));
    expect(await sendRow(send)).toMatchObject({ state: 'delivered', clicked_at: null });
    expect(await eventsOf(lead)).toMatchObject([{ name: 'resend_email_clicked', properties: { ...labels, send_id: send.id, url: link } }]);

    const rule = { type: 'behaviour', behaviour: 'email_clicked', message: labels.message, link, within_days: 1 } as const;
    expect(await countAudience(app.db.sql, rule, { teamId, now: new Date() }, { purpose: 'reporting' })).toBe(0);
  });

  it('failed and suppressed: the row says so, with Resend\'s reason on the event', async () => {
    const failed = await sentEmail();
    await deliver(buildResendEvent('email.failed', failed.email, { reason: 'reached_daily_quota' }));
    expect((await sendRow(failed.send)).state).toBe('failed');
    expect(await eventsOf(failed.lead)).toMatchObject([{ name: 'email_failed', properties: { reason: 'reached_daily_quota' } }]);

    const suppressed = await sentEmail();
    await deliver(buildResendEvent('email.suppressed', suppressed.email));
    expect((await sendRow(suppressed.send)).state).toBe('suppressed');
    expect(await eventsOf(suppressed.lead)).toMatchObject([{ name: 'email_suppressed', properties: { reason: 'OnAccountSuppressionList' } }]);
    expect(await leadStatus(suppressed.lead)).toBe('subscribed');
  });

  it('never goes backwards: a late delivered leaves a bounced row bounced, a bounce after delivery applies', async () => {
    const { email, lead, send } = await sentEmail();
    await deliver(buildResendEvent('email.bounced', email, { bounceType: 'hard', at: minutesAgo(1) }));
    const late = await deliver(buildResendEvent('email.delivered', email, { at: minutesAgo(2) }));
    expect(late.outcome).toBe('out-of-order');
    expect(await sendRow(send)).toMatchObject({ state: 'bounced', delivered_at: null });
    expect(await leadStatus(lead)).toBe('bounced');

    const later = await sentEmail();
    await deliver(buildResendEvent('email.delivered', later.email));
    expect((await deliver(buildResendEvent('email.delivered', later.email))).outcome).toBe('duplicate-state');
    expect((await deliver(buildResendEvent('email.delivery_delayed', later.email))).outcome).toBe('out-of-order');
    await deliver(buildResendEvent('email.bounced', later.email, { bounceType: 'hard' }));
    expect((await sendRow(later.send)).state).toBe('bounced');
  });

  it('refuses a tagged event whose Resend id differs from the one recorded for that row: the tags were copied onto another email', async () => {
    const { email, send, lead } = await sentEmail();
    const copied: WebhookEmail = { ...email, id: randomUUID() };
    const row = await deliver(buildResendEvent('email.complained', copied));
    expect(row).toMatchObject({ outcome: 'unmatched' });
    expect((await sendRow(send)).state).toBe('accepted');
    expect(await leadStatus(lead)).toBe('subscribed');
  });

  it('matches by the nurture_send tag when Resend\'s id is not in the ledger yet', async () => {
    const { email, send } = await sentEmail({ state: 'sending', recordProviderId: false });
    const row = await deliver(buildResendEvent('email.delivered', email));
    expect(row).toMatchObject({ outcome: 'applied', team_id: teamId });
    // The id itself is the pipeline's to record, from Resend's answer.
    expect(await sendRow(send)).toMatchObject({ state: 'delivered', provider_id: null });
  });

  it('records an event about an email without our tags (not sent through the ledger) as unmatched at once, changing nothing', async () => {
    const lead = await insertLead(app.db.sql, teamId);
    const email: WebhookEmail = { id: randomUUID(), from: 'news@test.example', to: lead.email, subject: 'Not ours' };
    const row = await deliver(buildResendEvent('email.bounced', email, { bounceType: 'hard' }));
    expect(row).toMatchObject({ outcome: 'unmatched', team_id: null });
    expect(await eventsOf(lead)).toEqual([]);
    expect(await leadStatus(lead)).toBe('subscribed');
  });

  it('stays in the workspace its tag names: another team\'s send id is not touched', async () => {
    const other = await sentEmail({ team: 'T0OTHERTEAM' });
    // An email of this workspace that names the other team's ledger row.
    const forged: WebhookEmail = { ...other.email, id: randomUUID(), tags: { nurture_send: String(other.send.id), nurture_team: teamId } };
    // Just now: a tagged email's ledger row exists before it is sent, so there is nothing to wait for.
    const row = await deliver(buildResendEvent('email.bounced', forged, { bounceType: 'hard' }));
    expect(row).toMatchObject({ outcome: 'unmatched', team_id: teamId });
    expect((await sendRow(other.send)).state).toBe('accepted');
    expect(await leadStatus(other.lead)).toBe('subscribed');
    expect(await eventsOf(other.lead)).toEqual([]);
  });

  it('logs each processed webhook at debug without addresses', async () => {
    const { email, lead } = await sentEmail();
    const { svixId } = await deliver(buildResendEvent('email.delivered', email));
    const line = await waitFor(() => app.logs.find((entry) => entry.svixId === svixId && entry.msg === 'resend webhook processed'));
    expect(line).toMatchObject({ level: 20, type: 'email.delivered', outcome: 'applied' });
    expect(app.logs.filter((entry) => JSON.stringify(entry).includes(lead.email))).toEqual([]);
  });
});

describe('delivery.prune-webhooks', () => {
  it('runs daily and deletes webhooks older than 30 days, keeping the rest', async () => {
    const old = newSvixId();
    const recent = newSvixId();
    await app.db.sql`
      INSERT INTO resend_webhooks (svix_id, event_type, payload, received_at, processed_at, outcome) VALUES
        (${old}, 'email.delivered', '{}', now() - interval '31 days', now() - interval '31 days', 'applied'),
        (${recent}, 'email.delivered', '{}', now() - interval '29 days', now() - interval '29 days', 'applied')`;
    await pruneWebhooksQueue.handle({}, { services: app.nurture.services, jobId: 'test', retryCount: 0, signal: new AbortController().signal });
    expect(await storedCount(old)).toBe(0);
    expect(await storedCount(recent)).toBe(1);
    expect(await app.db.sql`SELECT cron FROM pgboss.schedule WHERE name = ${pruneWebhooksQueue.name}`).toEqual([{ cron: pruneWebhooksQueue.schedule?.cron }]);
  });
});
