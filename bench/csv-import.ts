import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { importLeadsCsv } from '../src/modules/imports/import-leads-csv.ts';
import { startBenchApp, type BenchApp } from './support/bench-app.ts';

/**
 * CSV import of 100,000 rows. Target: under 10 s, memory flat (streamed, never loaded whole).
 *   (a) `npm run import` (the CLI, its own process) → POST /api/v1/leads of an app in this process on
 *       an embedded Postgres: wall time, and the CLI's peak RSS for 20,000 and 100,000 rows (flat
 *       memory: the peak levels off instead of growing with the file); the same 100,000 again (all
 *       unchanged); and 500,000 rows, to show where the peak levels off.
 *   (b) importLeadsCsv in-process (what the Slack job runs after the download), straight into Postgres.
 * Rows look like a real export: Japanese names on every 7th, quoted commas, custom columns, a few bad rows.
 */
const CLI = path.join(import.meta.dirname, '../src/cli/import-leads.ts');
const INDUSTRIES = ['Manufacturing', 'Logistics', 'Software', 'Finance', 'Retail', 'Healthcare'];
const STAGES = ['Awareness', 'Consideration', 'Decision'];
/** Every this-many rows is broken on purpose (a missing cell), so the error path is part of the figure. */
const BROKEN_EVERY = 10_000;

export async function benchCsvImport() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nurture-bench-csv-'));
  const app = await startBenchApp();
  try {
    const small = await writeCsv(path.join(dir, 'leads-20k.csv'), 'small', 20_000);
    const large = await writeCsv(path.join(dir, 'leads-100k.csv'), 'large', 100_000);
    const huge = await writeCsv(path.join(dir, 'leads-500k.csv'), 'huge', 500_000);
    const inProcess = await writeCsv(path.join(dir, 'leads-100k-in-process.csv'), 'inproc', 100_000);
    for (const file of [small, large, huge, inProcess]) console.log(`generated ${path.basename(file)}: ${((await stat(file)).size / 1024 / 1024).toFixed(1)} MB`);

    report('(a) CLI, 20,000 new rows', await runCli(app, small));
    report('(a) CLI, 100,000 new rows', await runCli(app, large));
    report('(a) CLI, the same 100,000 rows again (unchanged)', await runCli(app, large));

    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const started = performance.now();
    const summary = await importLeadsCsv(
      { sql: app.nurture.services.sql, trackingSecret: app.nurture.services.config.trackingSecret },
      app.teamId,
      createReadStream(inProcess, { highWaterMark: 64 * 1024 }),
      { source: 'bench', consent: { at: new Date().toISOString(), source: 'bench' } },
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    console.log(
      `(b) importLeadsCsv in-process, 100,000 new rows: ${seconds.toFixed(2)} s (${Math.round(summary.rows / seconds).toLocaleString('en-US')} rows/s), ` +
        `${summary.created.toLocaleString('en-US')} created, ${summary.failed} failed; app process RSS +${mb(rssPeak - rssBefore)} during the import`,
    );
    report('(a) CLI, 500,000 new rows (memory: V8 grows its heap lazily up to a plateau)', await runCli(app, huge));
  } finally {
    await app.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface CliResult {
  seconds: number;
  peakRssBytes: number;
  reportedMaxRssKiB?: number;
  exitCode: number | null;
  summary: string;
}

/** Runs the CLI as a person would, sampling its RSS from /proc while it runs (and its own --stats at the end). */
async function runCli(app: BenchApp, file: string): Promise<CliResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, '--url', app.url, '--stats', file], {
    env: { PATH: process.env.PATH ?? '', NURTURE_API_KEY: app.apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let peakRssBytes = 0;
  const sampler = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8').then(
      (status) => {
        const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
        peakRssBytes = Math.max(peakRssBytes, kib * 1024);
      },
      () => undefined,
    );
  }, 20);
  const [exitCode] = (await once(child, 'close')) as [number | null];
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  const stats = stderr.trim().split('\n').at(-1) ?? '';
  let reportedMaxRssKiB: number | undefined;
  try {
    reportedMaxRssKiB = (JSON.parse(stats) as { maxRssKiB?: number }).maxRssKiB;
  } catch {
    throw new Error(`the CLI failed (exit ${exitCode}):\n${stderr}\n${stdout}`);
  }
  return { seconds, peakRssBytes, reportedMaxRssKiB, exitCode, summary: stdout.split('\n')[0] ?? '' };
}

function report(label: string, result: CliResult) {
  const maxRss = result.reportedMaxRssKiB === undefined ? '?' : mb(result.reportedMaxRssKiB * 1024);
  console.log(`${label}: ${result.seconds.toFixed(2)} s wall (process start to exit), peak RSS ${maxRss} (maxRSS) / ${mb(result.peakRssBytes)} (sampled), exit ${result.exitCode}`);
  console.log(`  ${result.summary}`);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** A CRM-like export: BOM, CRLF, Japanese names, quoted commas and quotes, custom columns. */
async function writeCsv(file: string, prefix: string, rows: number): Promise<string> {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('\uFEFFEmail,First Name,Last Name,Company,Job Title,Industry,Stage,Time Zone,Employees,Plan,Notes\r\n');
  for (let n = 0; n < rows; n += 1) {
    const japanese = n % 7 === 0;
    const cells = [
      `${prefix}-${n}@company${n % 5000}.example`,
      japanese ? '太郎' : `First${n}`,
      japanese ? '山田' : `Last${n}`,
      japanese ? '"株式会社テスト, 東京"' : `"Company ${n % 5000}, Inc."`,
      n % 3 === 0 ? 'VP of Operations' : 'Head of Supply Chain',
      INDUSTRIES[n % INDUSTRIES.length]!,
      STAGES[n % STAGES.length]!,
      japanese ? 'Asia/Tokyo' : 'Europe/Berlin',
      String(50 + (n % 5000)),
      n % 2 ? 'pro' : 'free',
      n % 11 === 0 ? '"Met at the ""Logistics Expo"", booth 12"' : '',
    ];
    await write(`${(n + 1) % BROKEN_EVERY === 0 ? cells.slice(0, 5).join(',') : cells.join(',')}\r\n`);
  }
  out.end();
  await once(out, 'finish');
  return file;
}
