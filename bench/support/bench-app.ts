import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createApiKey } from '../../src/modules/api-keys/api-keys.ts';
import { startNurture, type Nurture } from '../../src/nurture.ts';
import { startFakeSlack } from '../../tests/support/fake-slack.ts';
import { testConfig } from '../../tests/support/test-config.ts';

export interface BenchApp {
  readonly url: string;
  readonly nurture: Nurture;
  readonly teamId: string;
  readonly apiKey: string;
  stop(): Promise<void>;
}

/**
 * The whole app in this process on its own embedded Postgres (durable settings, as in production)
 * and a local Slack double, with an API key for one workspace.
 */
export async function startBenchApp(): Promise<BenchApp> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'nurture-bench-'));
  await chmod(dataDir, 0o755); // as root, the embedded Postgres runs as the postgres user
  const logger = createLogger('warn');
  const server = await startEmbeddedPostgres({ dataDir, logger });
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  await admin`CREATE DATABASE bench`;
  await admin.end();
  const slack = await startFakeSlack();
  const url = new URL(server.adminUrl);
  url.pathname = '/bench';
  const config = testConfig({ DATABASE_URL: url.toString(), SLACK_API_URL: slack.url, NURTURE_ROLE: 'all' });
  const nurture = await startNurture(config, { logger, slackClientOptions: { retryConfig: { retries: 0 } } });
  const teamId = slack.teamId;
  const { key } = await createApiKey(nurture.services.sql, { teamId, label: 'bench', createdBy: 'U0BENCH' });
  return {
    url: `http://127.0.0.1:${nurture.port}`,
    nurture,
    teamId,
    apiKey: key,
    async stop() {
      await nurture.stop();
      await slack.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function summarize(label: string, samples: number[], unit = 'ms') {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  console.log(`${label}: p50 ${at(0.5).toFixed(1)} ${unit}, p95 ${at(0.95).toFixed(1)} ${unit}, max ${sorted.at(-1)!.toFixed(1)} ${unit} (n=${samples.length})`);
}
