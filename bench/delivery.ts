import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { addRecipients, countByState } from '../src/modules/delivery/ledger-queries.ts';
import { sendChunkQueue } from '../src/modules/delivery/send-chunk-queue.ts';
import { ResendTransport } from '../src/modules/delivery/resend-transport.ts';
import type { EmailSourceKind, SourceContent } from '../src/modules/delivery/email-source.ts';
import type { CompiledTemplate } from '../src/modules/templates/template.ts';
import { startBenchApp, type BenchApp } from './support/bench-app.ts';

// TEMPORARY until newsletters land: a minimal source.
const template: CompiledTemplate = {
  content: { name: 'Bench', stage: 'awareness', subject: 'Hello', preheader: '', body: 'Hi' },
  render: (lead, footer) => ({
    subject: `Hello ${lead.first_name}`,
    preheader: '',
    html: `<html><body><p>Hi ${lead.first_name} at ${lead.company}</p>${'<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>'.repeat(30)}<p><a href="${footer.unsubscribeUrl}">Unsubscribe</a> ${footer.postalAddress}</p></body></html>`,
    text: `Hi ${lead.first_name}\n${'Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n'.repeat(30)}Unsubscribe: ${footer.unsubscribeUrl}`,
  }),
};
const content: SourceContent = { capPolicy: 'skip', template: () => template, senderName: 'Bench', postalAddress: '1 Main St' };
const benchSource: EmailSourceKind = {
  kind: 'newsletter',
  prepare: async () => ({ action: 'send', ...content }),
  chunkSettled: async () => {},
  pause: async () => {},
  labels: async () => ({ message: 'Bench' }),
};
const emailSources = new Map([['newsletter', benchSource]] as const);

/**
 * The send pipeline end to end: ledger rows for 100,000 recipients, 1,000 chunk jobs, one batch call each
 * to a fake Resend running in its own process, until every row is accepted. Targets (issue #5):
 * ≥ 10,000 emails/s with no rate limit and RSS under 300 MB; with the limiter at 5 requests/s, within 5%
 * of 500 emails/s and not one 429.
 */
const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 100_000);
const LIMITED_BATCHES = 60;

export async function benchDelivery() {
  const fake = await startFakeResendProcess();
  try {
    await unlimited(fake);
    await limited(fake);
  } finally {
    fake.child.disconnect();
  }
}

async function unlimited(fake: FakeResendProcess) {
  const app = await startBenchApp({
    env: { RESEND_REQUESTS_PER_SECOND: '1000' },
    emailTransport: new ResendTransport({ apiKey: fake.apiKey, baseUrl: fake.url }),
    emailSources,
  });
  try {
    await insertLeads(app, RECIPIENTS);
    const rss = sampleRss();
    const started = performance.now();
    await queueSend(app, 1);
    const counts = await waitUntilSettled(app, 1, RECIPIENTS);
    const seconds = (performance.now() - started) / 1000;
    const peak = rss.stop();
    const stats = await fake.stats();
    console.log(`${RECIPIENTS.toLocaleString('en')} recipients, no rate limit: ${seconds.toFixed(2)} s, ${Math.round(RECIPIENTS / seconds).toLocaleString('en')} emails/s; peak RSS ${peak} MB`);
    console.log(`  ledger ${JSON.stringify(counts)}; fake Resend got ${stats.emails.toLocaleString('en')} emails in ${stats.requests} requests`);
  } finally {
    await app.stop();
  }
}

async function limited(fake: FakeResendProcess) {
  fake.child.send({ type: 'reset' });
  fake.child.send({ type: 'rate-limit', requestsPerSecond: 5 });
  const app = await startBenchApp({
    env: { RESEND_REQUESTS_PER_SECOND: '5' },
    emailTransport: new ResendTransport({ apiKey: fake.apiKey, baseUrl: fake.url }),
    emailSources,
  });
  try {
    const recipients = LIMITED_BATCHES * 100;
    await insertLeads(app, recipients);
    const started = performance.now();
    await queueSend(app, 2);
    const counts = await waitUntilSettled(app, 2, recipients);
    const seconds = (performance.now() - started) / 1000;
    const stats = await fake.stats();
    // As Resend sees it: the emails after the first call, over the time from the first call to the last.
    const rate = ((LIMITED_BATCHES - 1) * 100) / ((stats.lastAcceptedAt! - stats.firstAcceptedAt!) / 1000);
    console.log(`${recipients.toLocaleString('en')} recipients, limiter at 5 requests/s: ${seconds.toFixed(2)} s in all; ${Math.round(rate)} emails/s between the first and the last call (${((rate / 500 - 1) * 100).toFixed(1)}% from 500); 429s from the fake: ${stats.rateLimited}`);
    console.log(`  ledger ${JSON.stringify(counts)}`);
  } finally {
    await app.stop();
  }
}

async function insertLeads(app: BenchApp, count: number) {
  const sql = app.nurture.services.sql;
  await sql`
    INSERT INTO leads (team_id, email, first_name, last_name, company, industry, stage)
    SELECT ${app.teamId}, 'reader-' || n || '@company' || (n % 5000) || '.example', 'First' || n, 'Last' || n,
           'Company ' || (n % 5000), (ARRAY['software', 'logistics', 'finance'])[1 + n % 3], (ARRAY['awareness', 'consideration', 'decision'])[1 + n % 3]
    FROM generate_series(1, ${count}) AS n
    ON CONFLICT DO NOTHING`;
  await sql`ANALYZE leads`;
}

async function queueSend(app: BenchApp, sourceId: number) {
  const { sql, enqueue } = app.nurture.services;
  const { chunkIds } = await addRecipients(sql, { teamId: app.teamId, kind: 'newsletter', id: sourceId }, sql`SELECT id AS lead_id FROM leads WHERE team_id = ${app.teamId}`);
  await enqueue.many(sendChunkQueue, chunkIds.map((chunkId) => ({ payload: { teamId: app.teamId, chunkId } })));
}

async function waitUntilSettled(app: BenchApp, sourceId: number, expected: number) {
  for (;;) {
    const counts = await countByState(app.nurture.services.sql, app.teamId, 'newsletter', sourceId);
    const total = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
    if (total >= expected && !counts.queued && !counts.sending) return counts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function sampleRss() {
  let peak = process.memoryUsage.rss();
  let heapAtPeak = 0;
  const timer = setInterval(() => {
    const usage = process.memoryUsage();
    if (usage.rss > peak) [peak, heapAtPeak] = [usage.rss, usage.heapTotal];
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      console.log(`  heap at peak RSS: ${Math.round(heapAtPeak / 1024 / 1024)} MB`);
      return Math.round(Math.max(peak, process.memoryUsage.rss()) / 1024 / 1024);
    },
  };
}

interface FakeResendProcess {
  child: ChildProcess;
  url: string;
  apiKey: string;
  stats(): Promise<{ emails: number; requests: number; rateLimited: number; firstAcceptedAt?: number; lastAcceptedAt?: number }>;
}

async function startFakeResendProcess(): Promise<FakeResendProcess> {
  const child = fork(path.join(import.meta.dirname, 'support/fake-resend-process.ts'), { stdio: 'inherit' });
  const ready = await new Promise<{ url: string; apiKey: string }>((resolve) => child.once('message', resolve as never));
  return {
    child,
    ...ready,
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (message: { type: string }) => {
          if (message.type !== 'stats') return;
          child.off('message', onMessage);
          resolve(message as never);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
  };
}
