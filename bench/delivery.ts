import { readFileSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import { createLogger } from '../src/lib/logger.ts';
import { emailTracking } from '../src/modules/tracking/email-tracking.ts';
import { countByState } from '../src/modules/delivery/ledger-queries.ts';
import { sendChunkQueue } from '../src/modules/delivery/send-chunk-queue.ts';
import { ResendTransport } from '../src/modules/delivery/resend-transport.ts';
import { insertNewsletter, changeNewsletter } from '../src/modules/newsletters/queries.ts';
import { planNewsletter } from '../src/modules/newsletters/plan-newsletter.ts';
import { startNewsletterQueue } from '../src/modules/newsletters/start-newsletter-queue.ts';
import { insertSegment } from '../src/modules/segments/queries.ts';
import { compileTemplate } from '../src/modules/templates/compile-template.ts';
import { insertTemplate } from '../src/modules/templates/queries.ts';
import type { MergeLead, TemplateContent } from '../src/modules/templates/template.ts';
import { defineQueue } from '../src/queue/define-queue.ts';
import { startQueueSystem } from '../src/queue/queue-system.ts';
import { getWorkspaceSettings, updateWorkspaceSettings } from '../src/modules/workspaces/settings.ts';
import { startBenchApp, startWorkerProcess, type BenchApp } from './support/bench-app.ts';



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
    fake.child.send({ type: 'reset' });
    fake.child.send({ type: 'rate-limit' });
    await bareLoop(fake);
  } finally {
    fake.child.disconnect();
  }
}

/**
 * The yardstick: the same emails through a bare segment → pg-boss → batch-call loop, with no ledger,
 * no suppression or cap checks, no limiter and no newsletter: what this machine can do at all.
 */
async function bareLoop(fake: FakeResendProcess) {
  const app = await startBenchApp();
  const transport = new ResendTransport({ apiKey: fake.apiKey, baseUrl: fake.url });
  const template = compileTemplate(NEWSLETTER);
  const { sql } = app.nurture.services;
  const queue = defineQueue({
    name: 'bench.bare-send',
    payload: z.object({ afterId: z.number().int() }),
    queue: {},
    worker: sendChunkQueue.worker,
    handle: async ({ afterId }) => {
      const leads = await sql<MergeLead[]>`
        SELECT id, email, first_name, last_name, company, title, industry, stage, attributes FROM leads
        WHERE team_id = ${app.teamId} AND id > ${afterId} ORDER BY id LIMIT 100`;
      const emails = leads.map((lead) => {
        // Tracked like the newsletter's emails (pixel, rewritten links): the same emails, byte for byte in size.
        const tracking = emailTracking(app.nurture.services.config, template, { teamId: app.teamId, sendId: lead.id, leadId: lead.id, sentAt: new Date() });
        const rendered = template.render(lead, { senderName: 'Acme Marketing', postalAddress: '1 Main Street', unsubscribeUrl: `${app.url}/u/${lead.id}` }, tracking);
        return { from: 'Acme Marketing <news@acme.example>', to: lead.email, subject: rendered.subject, html: rendered.html, text: rendered.text };
      });
      const outcome = await transport.sendBatch(emails, { teamId: app.teamId, idempotencyKey: `bare-${afterId}` });
      if (outcome.kind !== 'accepted') throw new Error(outcome.kind);
    },
  });
  const queues = await startQueueSystem({ url: app.nurture.services.config.database.url!, logger: createLogger('warn'), role: 'all', queues: [queue] });
  try {
    await insertLeads(app, RECIPIENTS);
    const [bounds] = await sql<{ min: number }[]>`SELECT min(id) - 1 AS min FROM leads WHERE team_id = ${app.teamId}`;
    const started = performance.now();
    await queues.startWorkers(app.nurture.services);
    await queues.enqueue.many(queue, Array.from({ length: RECIPIENTS / 100 }, (_, index) => ({ payload: { afterId: bounds!.min + index * 100 } })));
    while ((await fake.count()) < RECIPIENTS) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (performance.now() - started) / 1000;
    console.log(`yardstick, the same emails by a bare segment → pg-boss → batch-call loop (no ledger, checks or limiter): ${seconds.toFixed(2)} s, ${Math.round(RECIPIENTS / seconds).toLocaleString('en')} emails/s`);
  } finally {
    await queues.stop();
    await app.stop();
  }
}

async function unlimited(fake: FakeResendProcess) {
  // The web role here (it approves and queues); the work in a worker process of its own, measured alone.
  const app = await startBenchApp({ env: { NURTURE_ROLE: 'web' } });
  const nodeOptions = (process.env.BENCH_WORKER_NODE_OPTIONS ?? workerNodeOptions()).split(' ').filter(Boolean);
  const worker = await startWorkerProcess(
    app,
    { RESEND_API_KEY: fake.apiKey, RESEND_BASE_URL: fake.url, RESEND_REQUESTS_PER_SECOND: '1000' },
    nodeOptions,
  );
  try {
    await insertLeads(app, RECIPIENTS);
    const idleRss = await worker.peakRssMb();
    const run = await sendNewsletter(app, fake, RECIPIENTS);
    const peak = await worker.peakRssMb();
    const stats = await fake.stats();
    const bytes = (stats.bytes / stats.emails).toFixed(0);
    console.log(
      `${RECIPIENTS.toLocaleString('en')}-recipient newsletter (emails of ~${bytes} bytes of HTML + text), no rate limit, from approval until all accepted: ` +
        `${run.seconds.toFixed(2)} s, ${Math.round(RECIPIENTS / run.seconds).toLocaleString('en')} emails/s`,
    );
    console.log(`  the worker process${nodeOptions.length ? ` (${nodeOptions.join(' ')})` : ''}: peak RSS ${peak} MB (${idleRss} MB before the send)`);
    console.log(`  first email at the fake after ${run.firstEmailSeconds.toFixed(2)} s; every ledger row written (in slices, while sending) after ${run.writtenSeconds.toFixed(2)} s`);
    console.log(`  ledger ${JSON.stringify(run.counts)}; fake Resend got ${stats.emails.toLocaleString('en')} emails in ${stats.requests} requests`);
    const [hot] = await app.nurture.services.sql<{ updates: number; hot: number }[]>`
      SELECT n_tup_upd::int AS updates, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'email_sends'`;
    console.log(`  ledger updates that touched no index (HOT): ${hot!.hot.toLocaleString('en')} of ${hot!.updates.toLocaleString('en')}`);
  } finally {
    await worker.stop();
    await app.stop();
  }
}

async function limited(fake: FakeResendProcess) {
  fake.child.send({ type: 'reset' });
  fake.child.send({ type: 'rate-limit', requestsPerSecond: 5 });
  const app = await startBenchApp({
    env: { RESEND_REQUESTS_PER_SECOND: '5' },
    emailTransport: new ResendTransport({ apiKey: fake.apiKey, baseUrl: fake.url }),
  });
  try {
    const recipients = LIMITED_BATCHES * 100;
    await insertLeads(app, recipients);
    const run = await sendNewsletter(app, fake, recipients);
    const stats = await fake.stats();
    // As Resend sees it: the emails after the first call, over the time from the first call to the last.
    const rate = ((LIMITED_BATCHES - 1) * 100) / ((stats.lastAcceptedAt! - stats.firstAcceptedAt!) / 1000);
    console.log(
      `${recipients.toLocaleString('en')}-recipient newsletter, limiter at 5 requests/s: ${run.seconds.toFixed(2)} s in all; ` +
        `${Math.round(rate)} emails/s between the first and the last call (${((rate / 500 - 1) * 100).toFixed(1)}% from 500); 429s from the fake: ${stats.rateLimited}`,
    );
    console.log(`  ledger ${JSON.stringify(run.counts)}`);
  } finally {
    await app.stop();
  }
}

/**
 * Approves a newsletter to every lead, starts it, and waits until the ledger says every email was
 * accepted. Also notes when the first email reached the fake and when the last ledger row was written
 * (the rows are written in slices while the first ones are sent).
 */
async function sendNewsletter(app: BenchApp, fake: FakeResendProcess, recipients: number) {
  const newsletterId = await approvedNewsletter(app);
  const before = await fake.count();
  const started = performance.now();
  await app.nurture.services.enqueue(startNewsletterQueue, { teamId: app.teamId, newsletterId });
  // Watch the fake (cheap) rather than count the ledger over and over (it would steal the database's time).
  let firstEmailSeconds: number | undefined;
  let writtenSeconds: number | undefined;
  for (;;) {
    const sent = (await fake.count()) - before;
    if (sent > 0) firstEmailSeconds ??= (performance.now() - started) / 1000;
    if (writtenSeconds === undefined && (await recipientCount(app, newsletterId)) !== null) writtenSeconds = (performance.now() - started) / 1000;
    if (sent >= recipients) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const counts = await waitUntilSettled(app, newsletterId, recipients);
  return { seconds: (performance.now() - started) / 1000, firstEmailSeconds: firstEmailSeconds!, writtenSeconds: writtenSeconds ?? Number.NaN, counts };
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

/** BENCH_EMAIL=short: a one-paragraph note instead (the layout and footer stay), to see what size costs. */
const SHORT_NOTE: TemplateContent = {
  name: 'Short note',
  stage: 'consideration',
  subject: 'A quick note, {{ first_name | default: "there" }}',
  preheader: '',
  body: 'Hi {{ first_name | default: "there" }}, the report you asked about is ready: [open it](https://example.com/report).',
};

const NEWSLETTER_LONG: TemplateContent = {
  name: 'Autumn update',
  stage: 'consideration',
  subject: 'What is new for {{ company | default: "your team" }}, {{ first_name | default: "there" }}',
  preheader: 'Three changes worth five minutes',
  body: [
    '# Hello {{ first_name | default: "there" }},',
    '',
    'Teams like **{{ company | default: "yours" }}** asked us for three things this season, and they are here:',
    '',
    '- Faster reports: the weekly digest now takes seconds, not minutes.',
    '- Shared views for your whole {{ industry | default: "industry" }} team.',
    '- Exports your finance colleagues can open without asking you first.',
    '',
    'The [case study](https://example.com/case-study) shows how a team of forty moved in a week.',
    '',
    'Reply to this email if you want a walk-through; a person reads every reply.',
    '',
    'Kind regards,  ',
    'The Acme team',
  ].join('\n'),
};

const NEWSLETTER = process.env.BENCH_EMAIL === 'short' ? SHORT_NOTE : NEWSLETTER_LONG;

/** A template, an everyone segment and a newsletter already approved for now, as a second marketer leaves it. */
async function approvedNewsletter(app: BenchApp): Promise<number> {
  const { sql } = app.nurture.services;
  compileTemplate(NEWSLETTER);
  await updateWorkspaceSettings(sql, app.teamId, { senderName: 'Acme Marketing', postalAddress: '1 Main Street, Springfield, OR 97403' });
  const template = await insertTemplate(sql, app.teamId, 'U0BENCH', NEWSLETTER);
  const segment = await insertSegment(sql, {
    teamId: app.teamId,
    name: 'Everyone',
    rule: { type: 'field', field: 'stage', op: 'one_of', value: ['awareness', 'consideration', 'decision'] },
    includeSuppressed: false,
    userId: 'U0BENCH',
  });
  const settings = await getWorkspaceSettings(sql, app.teamId);
  const plan = await planNewsletter(app.nurture.services, { teamId: app.teamId, segment: segment!, settings, now: new Date() });
  app.slack.addChannel({ id: 'C0NEWS', name: 'newsletters' });
  const posted = await app.nurture.services.slack.chat.postMessage({ channel: 'C0NEWS', text: 'send plan' });
  const newsletter = await insertNewsletter(sql, {
    teamId: app.teamId,
    templateId: template!.id,
    segmentId: segment!.id,
    content: { template: NEWSLETTER, senderName: 'Acme Marketing', postalAddress: '1 Main Street, Springfield, OR 97403', plan },
    sendAt: new Date(),
    requestedBy: 'U0BENCH',
    channelId: 'C0NEWS',
    plannedCount: plan.planned,
  });
  await changeNewsletter(sql, app.teamId, newsletter.id, ['awaiting_approval'], { status: 'scheduled', decided_by: 'U0BENCH2', decided_at: new Date(), } );
  await app.nurture.services.sql`UPDATE newsletters SET message_ts = ${posted.ts!} WHERE id = ${newsletter.id}`;
  return newsletter.id;
}

/**
 * The V8 options `npm run start:worker` gives a worker (package.json), so the figure is the product's
 * worker as deployed; BENCH_WORKER_NODE_OPTIONS replaces them ('' for V8's defaults).
 */
function workerNodeOptions(): string {
  const { scripts } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const command = scripts['start:worker'] ?? '';
  return command.split(' ').filter((token) => token.startsWith('--')).join(' ');
}

async function recipientCount(app: BenchApp, newsletterId: number): Promise<number | null> {
  const [row] = await app.nurture.services.sql<{ recipient_count: number | null }[]>`SELECT recipient_count FROM newsletters WHERE id = ${newsletterId}`;
  return row?.recipient_count ?? null;
}

async function waitUntilSettled(app: BenchApp, sourceId: number, expected: number) {
  for (;;) {
    const counts = await countByState(app.nurture.services.sql, app.teamId, 'newsletter', sourceId);
    const total = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
    if (total >= expected && !counts.queued && !counts.sending) return counts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface FakeResendProcess {
  child: ChildProcess;
  url: string;
  apiKey: string;
  count(): Promise<number>;
  stats(): Promise<{ emails: number; bytes: number; requests: number; rateLimited: number; firstAcceptedAt?: number; lastAcceptedAt?: number }>;
}

async function startFakeResendProcess(): Promise<FakeResendProcess> {
  // Not the benchmark's own V8 flags: the fake stands for another machine.
  const child = fork(path.join(import.meta.dirname, 'support/fake-resend-process.ts'), { stdio: 'inherit', execArgv: [] });
  const ready = await new Promise<{ url: string; apiKey: string }>((resolve) => child.once('message', resolve as never));
  const ask = <T>(type: 'count' | 'stats') =>
    new Promise<T>((resolve) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
      child.send({ type });
    });
  return {
    child,
    ...ready,
    count: async () => (await ask<{ emails: number }>('count')).emails,
    stats: () => ask('stats'),
  };
}
