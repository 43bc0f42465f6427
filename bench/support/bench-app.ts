import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { createSql } from '../../src/db/client.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApiKey } from '../../src/modules/api-keys/api-keys.ts';
import type { EmailSources } from '../../src/modules/delivery/email-source.ts';
import type { EmailTransport } from '../../src/modules/delivery/email-transport.ts';
import { startNurture, type Nurture } from '../../src/nurture.ts';
import { startFakeSlack, type FakeSlack } from '../../tests/support/fake-slack.ts';
import { testConfig } from '../../tests/support/test-config.ts';

export interface BenchApp {
  readonly url: string;
  readonly nurture: Nurture;
  /** The Slack double the app talks to. */
  readonly slack: FakeSlack;
  readonly teamId: string;
  readonly apiKey: string;
  stop(): Promise<void>;
}

/** An embedded Postgres with an empty `bench` database and a local Slack double: what every bench app runs against. */
async function startSurroundings() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nurture-bench-'));
  await chmod(dataDir, 0o755); // as root, the embedded Postgres runs as the postgres user
  const logger = createLogger('warn');
  const server = await startEmbeddedPostgres({ dataDir, logger });
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  await admin`CREATE DATABASE bench`;
  await admin.end();
  const slack = await startFakeSlack();
  return {
    logger,
    slack,
    databaseUrl: server.urlFor('bench'),
    async stop() {
      await slack.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The whole app in this process on its own embedded Postgres (durable settings, as in production)
 * and a local Slack double, with an API key for one workspace.
 */
export async function startBenchApp(options: { env?: Record<string, string>; emailTransport?: EmailTransport; emailSources?: EmailSources } = {}): Promise<BenchApp> {
  const { logger, slack, databaseUrl, stop } = await startSurroundings();
  const config = testConfig({ DATABASE_URL: databaseUrl, SLACK_API_URL: slack.url, NURTURE_ROLE: 'all', ...options.env });
  const nurture = await startNurture(config, {
    logger,
    slackClientOptions: { retryConfig: { retries: 0 } },
    ...(options.emailTransport ? { emailTransport: options.emailTransport } : {}),
    ...(options.emailSources ? { emailSources: options.emailSources } : {}),
  });
  const teamId = slack.teamId;
  const { key } = await createApiKey(nurture.services.sql, { teamId, label: 'bench', createdBy: 'U0BENCH' });
  return {
    url: `http://127.0.0.1:${nurture.port}`,
    nurture,
    slack,
    teamId,
    apiKey: key,
    async stop() {
      await nurture.stop();
      await stop();
    },
  };
}

export function summarize(label: string, samples: number[], unit = 'ms') {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  console.log(`${label}: p50 ${at(0.5).toFixed(1)} ${unit}, p95 ${at(0.95).toFixed(1)} ${unit}, max ${sorted.at(-1)!.toFixed(1)} ${unit} (n=${samples.length})`);
}

export interface BenchServer {
  readonly url: string;
  readonly teamId: string;
  readonly apiKey: string;
  /** The app's database, for setting up rows and counting what it stored. */
  readonly databaseUrl: string;
  /** The app's TRACKING_SECRET, for signing tracking links as its emails carry them. */
  readonly trackingSecret: string;
  /** Stops the app process gracefully (SIGTERM) and leaves its database running. */
  stopApp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The app as its own process (`node src/main.ts`, as `npm start` runs it) on an embedded Postgres, so a
 * benchmark's client does not share the server's event loop, as no real client would.
 */
export async function startBenchServer(options: { env?: Record<string, string> } = {}): Promise<BenchServer> {
  const { logger, slack, databaseUrl, stop } = await startSurroundings();
  const child = spawn(process.execPath, [path.join(import.meta.dirname, '../../src/main.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: databaseUrl,
      PORT: '0',
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: 'bench-signing-secret',
      SLACK_API_URL: slack.url,
      EMAIL_FROM: 'bench@example.com',
      TRACKING_SECRET: BENCH_TRACKING_SECRET,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const line = output.split('\n').find((candidate) => candidate.includes('"msg":"nurture is ready"'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`the app exited with ${code}:\n${output}`)));
  });
  const sql = createSql(databaseUrl, logger, { max: 1 });
  const { key } = await createApiKey(sql, { teamId: slack.teamId, label: 'bench', createdBy: 'U0BENCH' });
  await sql.end();
  const stopApp = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    teamId: slack.teamId,
    apiKey: key,
    databaseUrl,
    trackingSecret: BENCH_TRACKING_SECRET,
    stopApp,
    async stop() {
      await stopApp();
      await stop();
    },
  };
}

const BENCH_TRACKING_SECRET = 'b'.repeat(64);

export interface WorkerProcess {
  /** The worker's peak resident memory so far (VmHWM), in MB. */
  peakRssMb(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A worker (`NURTURE_ROLE=worker`, as `npm start` runs it) in its own process against the bench app's
 * database and Slack double, with `env` on top: what a deployment's worker is, so its memory is measured
 * alone. The bench app itself should run as `web` so that it takes no jobs.
 */
export async function startWorkerProcess(app: BenchApp, env: Record<string, string>, nodeOptions: readonly string[] = []): Promise<WorkerProcess> {
  const { config } = app.nurture.services;
  const child = spawn(process.execPath, [...nodeOptions, path.join(import.meta.dirname, '../../src/main.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: config.database.url!,
      NURTURE_ROLE: 'worker',
      PORT: '0',
      SLACK_BOT_TOKEN: config.slack.botToken,
      SLACK_SIGNING_SECRET: 'bench-signing-secret',
      SLACK_API_URL: config.slack.apiUrl ?? '',
      EMAIL_FROM: config.resend.from,
      TRACKING_SECRET: config.trackingSecret,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('"msg":"nurture is ready"')) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining its log
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the worker exited with ${code}:\n${output}`)));
  });
  return {
    async peakRssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
