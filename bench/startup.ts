import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFakeSlack } from '../tests/support/fake-slack.ts';

/**
 * `npm start` → first 200 from /healthz, with DATA_DIR already initialised (warm) and on an empty
 * DATA_DIR (cold: initdb + migrations + pg-boss schema). Then SIGTERM → exit. Target: warm < 5 s.
 * Slack is a local double that answers auth.test, so no network is involved.
 */
const ROOT = path.join(import.meta.dirname, '..');
const WARM_RUNS = 7;
const COLD_RUNS = 3;

export async function benchStartup() {
  const slack = await startFakeSlack();
  const env = {
    PATH: process.env.PATH ?? '',
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: 'bench-signing-secret',
    SLACK_API_URL: slack.url,
    RESEND_API_KEY: 're_bench',
    EMAIL_FROM: 'bench@example.com',
    TRACKING_SECRET: 'b'.repeat(64),
    LOG_LEVEL: 'info',
    PORT: '0',
  };
  const cold: Timing[] = [];
  const warm: Timing[] = [];
  try {
    for (let i = 0; i < COLD_RUNS; i += 1) {
      const dataDir = await freshDataDir();
      cold.push(await startAndStop({ ...env, DATA_DIR: dataDir }));
      if (i === COLD_RUNS - 1) {
        for (let j = 0; j < WARM_RUNS; j += 1) warm.push(await startAndStop({ ...env, DATA_DIR: dataDir }));
      }
      if (i < COLD_RUNS - 1) await rm(dataDir, { recursive: true, force: true });
      else cleanup.push(dataDir);
    }
  } finally {
    await slack.close();
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  }
  report('cold start (empty DATA_DIR): npm start → /healthz 200', cold.map((t) => t.readyMs));
  report('warm start (initialised DATA_DIR): npm start → /healthz 200', warm.map((t) => t.readyMs));
  report('graceful stop: SIGTERM → exit (embedded Postgres stopped)', [...cold, ...warm].map((t) => t.stopMs));
}

const cleanup: string[] = [];

interface Timing {
  readyMs: number;
  stopMs: number;
}

async function freshDataDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nurture-bench-'));
  await chmod(dir, 0o755); // as root, the embedded Postgres runs as the postgres user
  return dir;
}

async function startAndStop(env: Record<string, string>): Promise<Timing> {
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  let ready: { port: number; pid: number } | undefined;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`not ready within 60 s:\n${output}`);
    ready ??= readyLine(output);
    if (ready && (await fetch(`http://127.0.0.1:${ready.port}/healthz`).then((r) => r.status === 200, () => false))) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const readyMs = performance.now() - started;
  const stopping = performance.now();
  // As a process manager would: SIGTERM to the Node process; it stops its workers, pools and Postgres.
  process.kill(ready!.pid, 'SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`exited with ${code}:\n${output}`);
  return { readyMs, stopMs: performance.now() - stopping };
}

function readyLine(output: string): { port: number; pid: number } | undefined {
  const line = output.split('\n').find((candidate) => candidate.includes('"msg":"nurture is ready"'));
  return line ? (JSON.parse(line) as { port: number; pid: number }) : undefined;
}

function report(label: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`${label}: median ${fmt(median)}, min ${fmt(sorted[0]!)}, max ${fmt(sorted.at(-1)!)} (n=${samples.length})`);
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
