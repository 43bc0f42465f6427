import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.ts';
import { TEST_BOT_TOKEN, TEST_SIGNING_SECRET } from './support/test-config.ts';
import { waitFor } from './support/wait-for.ts';

const MAIN = path.join(import.meta.dirname, '../src/main.ts');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `node src/main.ts` as `npm start` runs it, in an empty folder so no developer's .env leaks in. */
async function runMain(env: Record<string, string>): Promise<Run & { cwd: string }> {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'nurture-main-'));
  await chmod(cwd, 0o755);
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited, cwd };
}

/** PORT=0 lets the OS choose; the ready log line says which. */
function readyPort(run: Run): number | undefined {
  const line = run.output().split('\n').find((candidate) => candidate.includes('"msg":"nurture is ready"'));
  return line ? (JSON.parse(line) as { port: number }).port : undefined;
}

async function healthy(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
  return response?.status === 200;
}

describe('npm start (src/main.ts)', () => {
  let slack: FakeSlack;
  let db: TestDatabase;
  const dirs: string[] = [];
  beforeAll(async () => {
    slack = await startFakeSlack({ botToken: TEST_BOT_TOKEN });
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await slack.close();
    await db.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const baseEnv = () => ({
    SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    RESEND_API_KEY: 're_test',
    EMAIL_FROM: 'news@test.example',
    TRACKING_SECRET: 't'.repeat(40),
    LOG_LEVEL: 'info',
  });

  it('with missing settings, prints every problem once, no stack trace, and exits 78', async () => {
    const run = await runMain({ TRACKING_SECRET: 'short' });
    dirs.push(run.cwd);
    expect(await run.exited).toBe(78);
    expect(run.output()).toMatch(/^Nurture cannot start: 4 settings need attention\.\n/);
    expect(run.output()).toContain('SLACK_BOT_TOKEN is missing');
    expect(run.output()).toContain('TRACKING_SECRET must be at least 32 characters');
    expect(run.output()).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('starts on DATABASE_URL, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const run = await runMain({ ...baseEnv(), DATABASE_URL: db.url, PORT: '0' });
    dirs.push(run.cwd);
    const port = await waitFor(() => readyPort(run), { timeoutMs: 20_000, description: `the ready line\n${run.output()}` });
    await waitFor(() => healthy(port), { timeoutMs: 20_000, description: `healthz on ${port}\n${run.output()}` });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('"msg":"shutting down"');
    expect(run.output()).not.toContain('"level":50');
  });

  it('with no DATABASE_URL, runs an embedded Postgres in DATA_DIR and stops it with the app on SIGINT', async () => {
    const run = await runMain({ ...baseEnv(), PORT: '0', DATA_DIR: 'data' });
    dirs.push(run.cwd);
    const port = await waitFor(() => readyPort(run), { timeoutMs: 30_000, description: `the ready line\n${run.output()}` });
    await waitFor(() => healthy(port), { timeoutMs: 30_000, description: `healthz on ${port}\n${run.output()}` });
    const clusterDir = path.join(run.cwd, 'data', 'postgres');
    expect(existsSync(path.join(clusterDir, 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(clusterDir, 'postmaster.pid'))).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    // Postgres removes its pid file only on a clean shutdown.
    expect(existsSync(path.join(clusterDir, 'postmaster.pid'))).toBe(false);
    expect(run.output()).toContain('embedded postgres stopped');
  });
});
