import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { createSql } from '../../src/db/client.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { startQueueSystem } from '../../src/queue/queue-system.ts';
import { QUEUES } from '../../src/queue/queues.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL on the test server; test files create their databases through it. */
    databaseAdminUrl: string;
    /** A migrated database (ours and pg-boss's schema) that test databases are cloned from. */
    databaseTemplate: string;
  }
}

/**
 * Once per run: a Postgres (the one DATABASE_URL names, else an embedded one in a temp folder that
 * the postgres user can reach), migrated once into a template database.
 */
export default async function setup(project: TestProject) {
  const logger = createLogger('warn');
  let server: EmbeddedPostgres | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'nurture-test-pg-'));
    // mkdtemp makes it 0700; as root, Postgres runs as the postgres user, which must enter it.
    await chmod(dataDir, 0o755);
    server = await startEmbeddedPostgres({ dataDir, logger, ephemeral: true });
    adminUrl = server.adminUrl;
  }

  const template = `nurture_template_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${template}`);
  await admin.unsafe(`CREATE DATABASE ${template}`);
  const templateUrl = withDatabase(adminUrl, template);
  const sql = createSql(templateUrl, logger, { max: 2 });
  await runMigrations(sql, logger);
  await sql.end();
  const queues = await startQueueSystem({ url: templateUrl, logger, role: 'web', queues: QUEUES });
  await queues.stop();

  project.provide('databaseAdminUrl', adminUrl);
  project.provide('databaseTemplate', template);

  return async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
