import { afterEach, describe, expect, it } from 'vitest';
import type { Sql } from '../../src/db/client.ts';
import type { ChunkOutcome, EmailSourceKind, PreparedSource, SourceContent } from '../../src/modules/delivery/email-source.ts';
import type { EmailTransport } from '../../src/modules/delivery/email-transport.ts';
import { addRecipients, countByState } from '../../src/modules/delivery/ledger-queries.ts';
import { ResendTransport } from '../../src/modules/delivery/resend-transport.ts';
import { enqueueChunks as enqueueSendChunks } from '../../src/modules/delivery/send-chunk-queue.ts';
import type { CompiledTemplate } from '../../src/modules/templates/template.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { insertSend } from '../support/factories.ts';
import { startFakeResend, type FakeResend } from '../support/fake-resend.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

const TEAM = 'T0PIPELINE';

/** A stand-in for newsletters: the pipeline's side of the contract, observable from the test. */
function testSource(options: { capPolicy?: 'skip' | 'defer' } = {}) {
  const template: CompiledTemplate = {
    content: { name: 'Pipeline test', stage: 'awareness', subject: 'Hello', preheader: '', body: 'Hi' },
    version: 'pipeline-test-v1',
    staticUrls: new Set(),
    linkCount: 0,
    render: (lead, footer) => ({
      subject: `Hello ${lead.first_name ?? 'there'}`,
      preheader: '',
      html: `<p>Hi ${lead.first_name ?? 'there'} at ${lead.company ?? 'your company'}</p><p><a href="${footer.unsubscribeUrl}">Unsubscribe</a> · ${footer.postalAddress}</p>`,
      text: `Hi ${lead.first_name ?? 'there'}\n\nUnsubscribe: ${footer.unsubscribeUrl}\n${footer.postalAddress}`,
    }),
  };
  const content: SourceContent = {
    capPolicy: options.capPolicy ?? 'skip',
    template: (step) => (step === 0 ? template : undefined),
    senderName: 'Acme Marketing',
    postalAddress: '1 Main St, Springfield',
  };
  const state = { action: 'send' as 'send' | 'hold' | 'cancel', settled: [] as ChunkOutcome[], paused: [] as string[] };
  const source: EmailSourceKind = {
    kind: 'newsletter',
    async prepare(): Promise<PreparedSource> {
      if (state.action === 'hold') return { action: 'hold', reason: 'paused by the test' };
      if (state.action === 'cancel') return { action: 'cancel', reason: 'cancelled by the test', ...content };
      return { action: 'send', ...content };
    },
    async chunkSettled(_services, _teamId, _sourceId, outcome) {
      state.settled.push(outcome);
    },
    async pause(_services, _teamId, _sourceId, reason) {
      state.paused.push(reason);
      state.action = 'hold';
    },
    async labels() {
      return { message: 'Pipeline test' };
    },
  };
  return { source, state, sources: new Map([['newsletter', source]] as const) };
}

const apps: TestApp[] = [];
let db: TestDatabase | undefined;
let resend: FakeResend | undefined;
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  await resend?.close();
  await db?.drop();
  db = undefined;
  resend = undefined;
});

async function start(source: ReturnType<typeof testSource>, options: { role?: 'all' | 'worker'; env?: Record<string, string> } = {}) {
  db ??= await createTestDatabase();
  resend ??= await startFakeResend();
  const app = await startTestApp({ db, resend, role: options.role ?? 'all', emailSources: source.sources, env: { RESEND_REQUESTS_PER_SECOND: '200', ...options.env } });
  apps.push(app);
  return app;
}

async function insertLeads(sql: Sql, count: number, prefix = 'p'): Promise<Array<{ id: number; email: string }>> {
  await sql`INSERT INTO workspaces (team_id) VALUES (${TEAM}) ON CONFLICT DO NOTHING`;
  return sql<Array<{ id: number; email: string }>>`
    INSERT INTO leads (team_id, email, first_name, company)
    SELECT ${TEAM}, ${prefix} || '-' || n || '@example.com', 'Person' || n, 'Company ' || n FROM generate_series(1, ${count}) AS n
    RETURNING id, email`;
}

/** Writes the ledger rows of newsletter `sourceId` for the leads and, unless told not to, enqueues its chunks. */
async function queueSend(app: TestApp, leadIds: readonly number[], sourceId = 1, options: { enqueue?: boolean } = {}) {
  const sql = app.db.sql;
  const { chunkIds, recipients } = await addRecipients(sql, { teamId: TEAM, kind: 'newsletter', id: sourceId }, sql`SELECT unnest(${leadIds as number[]}::bigint[]) AS lead_id`);
  if (options.enqueue !== false) await enqueueChunks(app, chunkIds, sourceId);
  return { chunkIds, recipients };
}

const enqueueChunks = (app: TestApp, chunkIds: readonly number[], sourceId = 1) =>
  enqueueSendChunks(app.nurture.services, { teamId: TEAM, kind: 'newsletter', id: sourceId }, chunkIds);

/** Waits until no row of the source is queued or sending, and returns the counts by state. */
async function settled(app: TestApp, sourceId = 1, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const counts = await countByState(app.db.sql, TEAM, 'newsletter', sourceId);
      return !counts.queued && !counts.sending && Object.keys(counts).length > 0 ? counts : undefined;
    },
    { timeoutMs, description: `newsletter ${sourceId} to settle` },
  );
}

/** How many emails each address got at the fake Resend. */
function emailsPerRecipient(fake: FakeResend): Map<string, number> {
  const counts = new Map<string, number>();
  for (const email of fake.emails) for (const to of email.to) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}

function expectExactlyOnce(fake: FakeResend, leads: ReadonlyArray<{ email: string }>) {
  const counts = emailsPerRecipient(fake);
  const wrong = leads.filter((lead) => counts.get(lead.email) !== 1).map((lead) => `${lead.email}: ${counts.get(lead.email) ?? 0}`);
  expect(wrong).toEqual([]);
  expect(fake.emails).toHaveLength(leads.length);
}

describe('the send pipeline', () => {
  it('sends every recipient one email in batches of at most 100, with unsubscribe headers, tags and Resend ids in the ledger', async () => {
    const source = testSource();
    const app = await start(source);
    const leads = await insertLeads(app.db.sql, 250);
    const { chunkIds, recipients } = await queueSend(app, leads.map((lead) => lead.id));
    expect(recipients).toBe(250);
    expect(chunkIds).toHaveLength(3);

    expect(await settled(app)).toEqual({ accepted: 250 });
    expectExactlyOnce(app.resend, leads);
    const batches = app.resend.requests.filter((request) => request.path === '/emails/batch' && request.status === 200);
    expect(batches.map((request) => request.emailIds.length).sort((a, b) => a - b)).toEqual([50, 100, 100]);

    const [row] = await app.db.sql<Array<{ id: number; provider_id: string; batch_key: string; sent_at: Date | null; accepted_at: Date | null }>>`
      SELECT id, provider_id, batch_key, sent_at, accepted_at FROM email_sends WHERE lead_id = ${leads[0]!.id}`;
    const email = app.resend.emailById(row!.provider_id)!;
    expect(email.to).toEqual([leads[0]!.email]);
    expect(email.from).toBe('Acme Marketing <news@test.example>');
    expect(email.subject).toBe('Hello Person1');
    expect(email.idempotencyKey).toBe(row!.batch_key);
    expect(email.tags).toEqual([
      { name: 'nurture_send', value: String(row!.id) },
      { name: 'nurture_team', value: TEAM },
    ]);
    expect(email.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const unsubscribeUrl = /^<(.+)>$/.exec(email.headers?.['List-Unsubscribe'] ?? '')?.[1];
    expect(email.text).toContain(`Unsubscribe: ${unsubscribeUrl}`);
    // The one-click link works, and names the send it came from.
    const response = await fetch(unsubscribeUrl!.replace(app.config.publicUrl, app.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(response.status).toBe(200);
    expect(await app.db.sql`SELECT send_id FROM unsubscribes WHERE lead_id = ${leads[0]!.id}`).toEqual([{ send_id: row!.id }]);
    expect(row!.sent_at).toBeInstanceOf(Date);
    expect(row!.accepted_at).toBeInstanceOf(Date);
    expect(source.state.settled.filter((outcome) => outcome.kind === 'sent').reduce((sum, outcome) => sum + (outcome.kind === 'sent' ? outcome.accepted : 0), 0)).toBe(250);
  });

  it('adds nobody twice when the recipients are written again', async () => {
    const app = await start(testSource());
    const leads = await insertLeads(app.db.sql, 120);
    await queueSend(app, leads.map((lead) => lead.id), 1, { enqueue: false });
    const again = await queueSend(app, leads.map((lead) => lead.id), 1, { enqueue: false });
    expect(again).toEqual({ chunkIds: [], recipients: 0 });
    expect(await countByState(app.db.sql, TEAM, 'newsletter', 1)).toEqual({ queued: 120 });
  });

  it('after the answer is lost (Resend sent it, the connection dropped) the retry sends nobody a second email', async () => {
    const app = await start(testSource());
    const leads = await insertLeads(app.db.sql, 100);
    app.resend.failNext(1, { disconnect: true, afterProcessing: true });
    await queueSend(app, leads.map((lead) => lead.id));
    expect(await settled(app)).toEqual({ accepted: 100 });
    expectExactlyOnce(app.resend, leads);
    expect(app.resend.requests.some((request) => request.replayed)).toBe(true);
  });

  it('a worker that dies after Resend took its batch, before recording it, leaves the rows claimed; the next process finishes: every recipient exactly one email', async () => {
    const source = testSource();
    db = await createTestDatabase();
    resend = await startFakeResend();
    const toFake = new ResendTransport({ apiKey: resend.apiKey, baseUrl: resend.url });
    let dying = true;
    // Forwards the call, then dies instead of returning: the process is gone before the answer is recorded.
    const dyingTransport: EmailTransport = {
      name: 'resend',
      async sendBatch(emails, options) {
        const outcome = await toFake.sendBatch(emails, options);
        if (dying) {
          dying = false;
          throw new Error('worker killed');
        }
        return outcome;
      },
    };
    const first = await startTestApp({ db, resend, role: 'worker', emailSources: source.sources, emailTransport: dyingTransport });
    apps.push(first);
    const leads = await insertLeads(db.sql, 300);
    await queueSend(first, leads.map((lead) => lead.id));
    await waitFor(async () => (await countByState(db!.sql, TEAM, 'newsletter', 1)).sending === 100 && !dying, { description: 'a batch claimed by the dying worker' });
    await first.stop();
    apps.splice(apps.indexOf(first), 1);
    const counts = await countByState(db.sql, TEAM, 'newsletter', 1);
    expect(counts.sending).toBe(100);

    const second = await start(source, { role: 'worker' });
    // pg-boss hands the failed job out again after its retry delay; the batch is resent under its key.
    expect(await settled(second, 1, 30_000)).toEqual({ accepted: 300 });
    expectExactlyOnce(resend, leads);
    expect(resend.requests.filter((request) => request.replayed)).toHaveLength(1);
  }, 60_000);

  it('two workers on one send: every recipient exactly one email', async () => {
    const source = testSource();
    const one = await start(source, { role: 'worker' });
    const two = await start(source, { role: 'worker' });
    const leads = await insertLeads(one.db.sql, 1000);
    const { chunkIds } = await queueSend(one, leads.map((lead) => lead.id));
    // The same chunks enqueued twice, as a retry racing a slow first attempt would.
    await enqueueChunks(two, chunkIds);
    expect(await settled(one, 1, 30_000)).toEqual({ accepted: 1000 });
    expectExactlyOnce(one.resend, leads);
  }, 60_000);

  it('a 429 storm is waited out and retried: nobody is dropped or mailed twice', async () => {
    const app = await start(testSource(), { env: { RESEND_REQUESTS_PER_SECOND: '50' } });
    const leads = await insertLeads(app.db.sql, 600);
    // Resend allows 2 requests/s while we were told 50: most calls come back 429 at first.
    app.resend.setRateLimit({ requestsPerSecond: 2 });
    await queueSend(app, leads.map((lead) => lead.id));
    expect(await settled(app, 1, 30_000)).toEqual({ accepted: 600 });
    expect(app.resend.rateLimited).toBeGreaterThan(0);
    expectExactlyOnce(app.resend, leads);
  }, 60_000);

  it('suppression is checked at send time: a lead who unsubscribes after the send was queued is not mailed', async () => {
    const app = await start(testSource());
    const leads = await insertLeads(app.db.sql, 150);
    const { chunkIds } = await queueSend(app, leads.map((lead) => lead.id), 1, { enqueue: false });
    await enqueueChunks(app, chunkIds.slice(0, 1));
    await app.resend.waitForEmails(100);
    // During the send: one lead of the second chunk unsubscribes, another bounces.
    const [unsubscribed, bounced] = [leads[120]!, leads[140]!];
    await app.db.sql`UPDATE leads SET status = 'unsubscribed' WHERE id = ${unsubscribed.id}`;
    await app.db.sql`UPDATE leads SET status = 'bounced' WHERE id = ${bounced.id}`;
    await enqueueChunks(app, chunkIds.slice(1));

    expect(await settled(app)).toEqual({ accepted: 148, suppressed: 2 });
    expect(app.resend.byRecipient(unsubscribed.email)).toEqual([]);
    expect(app.resend.byRecipient(bounced.email)).toEqual([]);
    const reasons = await app.db.sql`SELECT lead_id, reason FROM email_sends WHERE state = 'suppressed' ORDER BY lead_id`;
    expect(reasons).toEqual([
      { lead_id: unsubscribed.id, reason: 'lead is unsubscribed' },
      { lead_id: bounced.id, reason: 'lead is bounced' },
    ]);
  });

  it('the frequency cap skips a newsletter to a lead mailed in the last 24 hours, and a deferring source defers it to when the cap frees', async () => {
    const app = await start(testSource());
    const [mailedToday, mailedThreeTimes, fresh] = await insertLeads(app.db.sql, 3);
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3600_000);
    await insertSend(app.db.sql, TEAM, mailedToday!.id, { sourceId: 90, sentAt: hoursAgo(2) });
    for (const [index, days] of [6, 4, 2].entries()) await insertSend(app.db.sql, TEAM, mailedThreeTimes!.id, { sourceId: 91 + index, sentAt: hoursAgo(days * 24) });
    // A failed email does not count toward the cap.
    await insertSend(app.db.sql, TEAM, fresh!.id, { sourceId: 95, sentAt: hoursAgo(1), state: 'failed' });

    await queueSend(app, [mailedToday!.id, mailedThreeTimes!.id, fresh!.id]);
    expect(await settled(app)).toEqual({ accepted: 1, capped: 2 });
    expect(app.resend.emails.map((email) => email.to[0])).toEqual([fresh!.email]);
    const capped = await app.db.sql<Array<{ lead_id: number; reason: string }>>`SELECT lead_id, reason FROM email_sends WHERE source_id = 1 AND state = 'capped' ORDER BY lead_id`;
    expect(capped).toEqual([
      { lead_id: mailedToday!.id, reason: 'frequency cap: 1 in the last 24 hours (cap 1)' },
      { lead_id: mailedThreeTimes!.id, reason: 'frequency cap: 3 in the last 7 days (cap 3)' },
    ]);
  });

  it('a deferring source keeps a capped email for later, with the time the cap frees', async () => {
    const app = await start(testSource({ capPolicy: 'defer' }));
    const [lead] = await insertLeads(app.db.sql, 1);
    const sentAt = new Date(Date.now() - 3 * 3600_000);
    await insertSend(app.db.sql, TEAM, lead!.id, { sourceId: 90, sentAt });
    await queueSend(app, [lead!.id]);
    expect(await settled(app)).toEqual({ deferred: 1 });
    const [row] = await app.db.sql<Array<{ not_before: Date }>>`SELECT not_before FROM email_sends WHERE source_id = 1`;
    expect(row!.not_before.getTime()).toBe(sentAt.getTime() + 24 * 3600_000);
    expect(app.resend.emails).toEqual([]);
  });

  it('an address Resend refuses fails that row with the reason; the rest of the batch goes out', async () => {
    const app = await start(testSource());
    const leads = await insertLeads(app.db.sql, 10);
    app.resend.rejectRecipient(leads[3]!.email);
    await queueSend(app, leads.map((lead) => lead.id));
    expect(await settled(app)).toEqual({ accepted: 9, failed: 1 });
    const [failed] = await app.db.sql<Array<{ lead_id: number; reason: string; sent_at: Date | null }>>`SELECT lead_id, reason, sent_at FROM email_sends WHERE state = 'failed'`;
    expect(failed!.lead_id).toBe(leads[3]!.id);
    expect(failed!.reason).toMatch(/to/i);
    // A failed email does not count toward the frequency cap.
    expect(failed!.sent_at).toBeNull();
  });

  it('a refused call (bad API key) pauses the send and keeps its rows; after resuming, everyone gets exactly one email', async () => {
    const source = testSource();
    const app = await start(source);
    const leads = await insertLeads(app.db.sql, 5);
    app.resend.failNext(1, { status: 401, name: 'validation_error', message: 'API key is invalid' });
    const { chunkIds } = await queueSend(app, leads.map((lead) => lead.id));
    await waitFor(() => source.state.paused.length > 0, { description: 'the send to pause' });
    expect(source.state.paused[0]).toBe('Resend refused the batch (validation_error, 401): API key is invalid');
    expect(await countByState(app.db.sql, TEAM, 'newsletter', 1)).toEqual({ sending: 5 });

    source.state.action = 'send';
    await enqueueChunks(app, chunkIds);
    expect(await settled(app)).toEqual({ accepted: 5 });
    expectExactlyOnce(app.resend, leads);
  });

  it('repeated server errors are reported to the source as failures, and the job retries the same batch until Resend answers', async () => {
    const source = testSource();
    const app = await start(source);
    const leads = await insertLeads(app.db.sql, 20);
    app.resend.failNext(3, { status: 500 });
    await queueSend(app, leads.map((lead) => lead.id));
    expect(await settled(app, 1, 30_000)).toEqual({ accepted: 20 });
    expect(source.state.settled.filter((outcome) => outcome.kind === 'failed')).toEqual([{ kind: 'failed', reason: expect.stringContaining('server-error 500') }]);
    expectExactlyOnce(app.resend, leads);
    const keys = new Set(app.resend.requests.map((request) => request.idempotencyKey));
    expect(keys.size).toBe(1);
  }, 60_000);

  it('a cancelled send marks what was not handed to Resend cancelled and sends none of it', async () => {
    const source = testSource();
    const app = await start(source);
    const leads = await insertLeads(app.db.sql, 200);
    const { chunkIds } = await queueSend(app, leads.map((lead) => lead.id), 1, { enqueue: false });
    await enqueueChunks(app, chunkIds.slice(0, 1));
    await app.resend.waitForEmails(100);
    source.state.action = 'cancel';
    await enqueueChunks(app, chunkIds.slice(1));
    expect(await settled(app)).toEqual({ accepted: 100, cancelled: 100 });
    expect(app.resend.emails).toHaveLength(100);
  });
});

describe('the shared rate limiter', () => {
  it('keeps two worker processes together under Resend\'s limit: not one 429', async () => {
    const source = testSource();
    // Each process alone at 4/s would be fine; two unshared limiters would send 8/s into a limit of 5.
    // (4, not 5: a loaded CI machine delays a call by more than the 5/s budget's 40 ms of slack.)
    const env = { RESEND_REQUESTS_PER_SECOND: '4' };
    const one = await start(source, { role: 'worker', env });
    await start(source, { role: 'worker', env });
    one.resend.setRateLimit({ requestsPerSecond: 5 });
    const leads = await insertLeads(one.db.sql, 1200);
    await queueSend(one, leads.map((lead) => lead.id));
    expect(await settled(one, 1, 30_000)).toEqual({ accepted: 1200 });
    expect(one.resend.rateLimited).toBe(0);
    expectExactlyOnce(one.resend, leads);
    const batchTimes = one.resend.requests.filter((request) => request.status === 200).map((request) => request.at.getTime());
    // 12 calls about 250 ms apart, whichever process made them: no 1-second window holds more than 4.
    for (let index = 4; index < batchTimes.length; index++) expect(batchTimes[index]! - batchTimes[index - 4]!).toBeGreaterThanOrEqual(900);
  }, 60_000);
});
