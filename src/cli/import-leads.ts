import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { importCsvInBatches, type BatchOutcome, type ImportSummary } from '../modules/imports/import-csv-in-batches.ts';
import { CsvFileError, type CsvHeader } from '../modules/imports/read-lead-csv.ts';

/**
 * `npm run import -- --url https://nurture.example.com --key <api key> leads.csv`
 *
 * Imports a CSV of any size through Nurture's HTTP API (POST /api/v1/leads): the file is streamed
 * through the same reader the Slack import uses and sent in batches of 1,000, two requests in flight
 * at most, so memory stays flat however big the file. Progress goes to stderr, the summary to stdout.
 * Exit code: 0 every row imported, 1 some rows were not (listed by row number), 2 nothing could be
 * done or the import stopped (bad arguments, unreadable file, key refused, server unreachable).
 */

export const USAGE = `Usage: npm run import -- --url <nurture url> --key <api key> <file.csv>

Imports leads from a CSV file (UTF-8, first row names the columns, an "email" column is required)
through Nurture's API. Rows already imported are updated, never duplicated, so a file can be
imported again after fixing the rows that failed.

Options:
  --url <url>    where Nurture runs, e.g. https://nurture.example.com
  --key <key>    an API key (admins create one in Slack: /nurture apikey create <label>);
                 or set NURTURE_API_KEY instead, which keeps it out of your shell history
  --stats        print elapsed time and peak memory to stderr at the end
  --help         show this help

Use - as the file to read from standard input.`;

const EXIT_OK = 0;
const EXIT_ROWS_FAILED = 1;
const EXIT_STOPPED = 2;
const MAX_IN_FLIGHT = 2;
const RETRIES = 4;
const REQUEST_TIMEOUT_MS = 120_000;
const PROGRESS_EVERY_MS = 1_000;
const SHOWN_PROBLEMS = 50;

const ArgsSchema = z.object({
  url: z
    .string({ message: '--url is required: where Nurture runs, e.g. --url https://nurture.example.com' })
    .pipe(z.url({ protocol: /^https?$/, message: '--url must be an http(s) address such as https://nurture.example.com' })),
  key: z
    .string({ message: '--key is required (or set NURTURE_API_KEY): an API key from /nurture apikey create in Slack' })
    .trim()
    .min(1, '--key is empty'),
  file: z.string({ message: 'name the CSV file to import, e.g. leads.csv' }),
  stats: z.boolean(),
});
type CliArgs = z.infer<typeof ArgsSchema>;

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: AsyncIterable<Uint8Array>;
  env: Record<string, string | undefined>;
}

/** A reason to stop the whole import (not one row's problem). */
class StopError extends Error {
  override name = 'StopError';
}

export async function runImportCli(argv: readonly string[], io: CliIo): Promise<number> {
  const started = performance.now();
  const say = (line: string) => io.stderr.write(`${line}\n`);
  let args: CliArgs;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { url: { type: 'string' }, key: { type: 'string' }, stats: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout.write(`${USAGE}\n`);
      return EXIT_OK;
    }
    if (positionals.length > 1) throw new StopError(`import one file at a time (got ${positionals.length}: ${positionals.join(', ')})`);
    const parsed = ArgsSchema.safeParse({ url: values.url, key: values.key ?? io.env.NURTURE_API_KEY, file: positionals[0], stats: values.stats });
    if (!parsed.success) throw new StopError(parsed.error.issues.map((issue) => issue.message).join('\n'));
    args = parsed.data;
  } catch (error) {
    // parseArgs explains unknown options and missing values itself.
    say(`${error instanceof Error ? error.message.replace(/^TypeError \[[A-Z_]+\]: /, '') : String(error)}\n\n${USAGE}`);
    return EXIT_STOPPED;
  }

  const fileName = args.file === '-' ? 'standard input' : path.basename(args.file);
  let input: AsyncIterable<Uint8Array>;
  let totalBytes: number | undefined;
  if (args.file === '-') {
    input = io.stdin;
  } else {
    const info = await stat(args.file).catch(() => undefined);
    if (!info) return stop(say, `there is no file ${args.file}`);
    if (!info.isFile()) return stop(say, `${args.file} is not a file`);
    totalBytes = info.size;
    input = createReadStream(args.file, { highWaterMark: 64 * 1024 });
  }

  // Relative to --url, so Nurture behind a path prefix (https://example.com/nurture/) works too.
  const endpoint = new URL('api/v1/leads', args.url.endsWith('/') ? args.url : `${args.url}/`);
  const api = apiClient(endpoint, args.key);
  const send = apiSender(api, say);
  let lastShown = 0;
  let summary: ImportSummary;
  try {
    summary = await importCsvInBatches(input, send, {
      maxInFlight: MAX_IN_FLIGHT,
      onProgress: (progress) => {
        const now = performance.now();
        if (now - lastShown < PROGRESS_EVERY_MS) return;
        lastShown = now;
        const percent = totalBytes ? ` (${Math.min(99, Math.floor((progress.bytesRead / totalBytes) * 100))}%)` : '';
        say(`${n(progress.rows)} rows read${percent}: ${n(progress.created)} new, ${n(progress.updated)} updated, ${n(progress.unchanged)} unchanged, ${n(progress.failed)} not imported`);
      },
    });
  } catch (error) {
    if (error instanceof CsvFileError) return stop(say, `cannot import ${fileName}: ${error.message.replace(/\.$/, '')}${error.row !== undefined && error.row > 1 ? ` (row ${n(error.row)})` : ''}. Nothing was imported.`);
    if (error instanceof StopError) return stop(say, `${error.message}\nImporting the file again is safe: rows already imported are updated, not duplicated.`);
    throw error;
  } finally {
    api.close();
  }

  io.stdout.write(formatSummary(fileName, summary));
  if (args.stats) {
    say(JSON.stringify({ elapsedMs: Math.round(performance.now() - started), maxRssKiB: process.resourceUsage().maxRSS, rows: summary.rows }));
  }
  return summary.stopped ? EXIT_STOPPED : summary.failed > 0 ? EXIT_ROWS_FAILED : EXIT_OK;
}

function stop(say: (line: string) => void, message: string): number {
  say(`Error: ${message}`);
  return EXIT_STOPPED;
}

const BatchOutcomeSchema = z.object({
  created: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  failed: z.number(),
  errors: z.array(z.object({ index: z.number(), email: z.string().optional(), problems: z.array(z.string()) })),
});

interface ApiAnswer {
  status: number;
  retryAfter?: number;
  text: string;
}

/**
 * POST with node:http on a keep-alive agent. Not fetch: over a few hundred 100 kB requests undici's
 * fetch grew this process's memory with the file's size (145 → 314 MB for 20k → 500k rows), node:http stays flat.
 */
function apiClient(endpoint: URL, key: string) {
  const transport = endpoint.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  return {
    post(body: string): Promise<ApiAnswer> {
      return new Promise((resolve, reject) => {
        const request = transport.request(
          endpoint,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` },
          },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: Number(response.headers['retry-after']) || undefined, text }));
            response.on('error', reject);
          },
        );
        request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
        request.on('error', reject);
        request.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * POSTs one batch. Retries what a retry can fix (network errors, 429, 5xx: upserts are idempotent),
 * halves a batch the server finds too large, and stops on a refused key or a refused request.
 */
function apiSender(api: ReturnType<typeof apiClient>, say: (line: string) => void) {
  const post = async (leads: Array<Record<string, unknown>>): Promise<BatchOutcome> => {
    for (let attempt = 0; ; attempt += 1) {
      let answer: ApiAnswer;
      try {
        answer = await api.post(JSON.stringify(leads));
      } catch (error) {
        if (attempt >= RETRIES) throw new StopError(`cannot reach the server: ${causeOf(error)}`);
        await retryPause(say, attempt, causeOf(error));
        continue;
      }
      if (answer.status === 200) return BatchOutcomeSchema.parse(JSON.parse(answer.text));
      const reason = errorText(answer.text);
      if (answer.status === 401 || answer.status === 403) {
        throw new StopError(`the API key was refused (${answer.status}${reason ? `: ${reason}` : ''}). Check --key; admins create keys in Slack with /nurture apikey create <label>.`);
      }
      if (answer.status === 413 && leads.length > 1) {
        const half = Math.ceil(leads.length / 2);
        return combine(await post(leads.slice(0, half)), await post(leads.slice(half)), half);
      }
      if ((answer.status === 429 || answer.status >= 500) && attempt < RETRIES) {
        await retryPause(say, attempt, `HTTP ${answer.status}`, answer.retryAfter);
        continue;
      }
      throw new StopError(`the server refused a batch (HTTP ${answer.status}${reason ? `: ${reason}` : ''})`);
    }
  };
  return post;
}

function combine(first: BatchOutcome, second: BatchOutcome, offset: number): BatchOutcome {
  return {
    created: first.created + second.created,
    updated: first.updated + second.updated,
    unchanged: first.unchanged + second.unchanged,
    failed: first.failed + second.failed,
    errors: [...first.errors, ...second.errors.map((error) => ({ ...error, index: error.index + offset }))],
  };
}

async function retryPause(say: (line: string) => void, attempt: number, why: string, retryAfterSeconds?: number) {
  const seconds = retryAfterSeconds ?? 2 ** attempt;
  say(`${why}; retrying in ${seconds} s`);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

function causeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

function errorText(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; problems?: unknown };
    const problems = Array.isArray(parsed.problems) ? ` (${parsed.problems.join('; ')})` : '';
    return typeof parsed.error === 'string' ? `${parsed.error}${problems}` : undefined;
  } catch {
    return body.trim().slice(0, 200) || undefined;
  }
}

const n = (value: number) => value.toLocaleString('en-US');

export function formatSummary(fileName: string, summary: ImportSummary): string {
  const lines = [
    `${summary.failed === 0 && !summary.stopped ? 'Imported' : 'Imported, with problems,'} ${fileName}: ${n(summary.rows)} rows read — ` +
      `${n(summary.created)} new, ${n(summary.updated)} updated, ${n(summary.unchanged)} unchanged, ${n(summary.failed)} not imported.`,
  ];
  if (summary.stopped) lines.push(`Reading stopped at row ${n(summary.stopped.row)}: ${summary.stopped.reason}. The rows before it were imported.`);
  if (summary.errors.length > 0) {
    lines.push('Rows not imported:');
    for (const error of summary.errors.slice(0, SHOWN_PROBLEMS)) {
      lines.push(`  row ${n(error.row)}${error.email ? ` (${error.email})` : ''}: ${error.problems.join('; ')}`);
    }
    const more = summary.failed - Math.min(summary.errors.length, SHOWN_PROBLEMS);
    if (more > 0) lines.push(`  …and ${n(more)} more`);
    lines.push('Fix those rows and import the file again: leads already imported are updated, not duplicated.');
  }
  if (summary.header) lines.push(columnsLine(summary.header));
  return `${lines.join('\n')}\n`;
}

function columnsLine(header: CsvHeader): string {
  const mapped = header.columns.filter((column) => column.field).map((column) => `"${column.header}" → ${column.field}`);
  const attributes = header.columns.filter((column) => !column.field).map((column) => `"${column.header}"`);
  return `Columns: ${mapped.join(', ')}${attributes.length > 0 ? `; kept as custom attributes: ${attributes.join(', ')}` : ''}.`;
}

if (import.meta.main) {
  process.exitCode = await runImportCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
}
