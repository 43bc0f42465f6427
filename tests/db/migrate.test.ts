import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSql } from '../../src/db/client.ts';
import { MIGRATIONS_DIR, MigrationError, readMigrationFiles, runMigrations } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const logger = createLogger('silent');
const databases: TestDatabase[] = [];

async function emptyDatabase() {
  const db = await createTestDatabase({ empty: true });
  databases.push(db);
  return db;
}

async function migrationsCopy(extra: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nurture-migrations-'));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, text] of Object.entries(extra)) await writeFile(path.join(dir, name), text);
  return dir;
}

afterEach(async () => {
  for (const db of databases.splice(0)) await db.drop();
});

describe('migrations', () => {
  it('apply to a fresh database, then do nothing the second time', async () => {
    const db = await emptyDatabase();
    const files = await readMigrationFiles();
    const first = await runMigrations(db.sql, logger);
    expect(first.applied).toEqual(files.map((file) => file.name));
    const tables = await db.sql<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
    expect(tables.map((row) => row.table_name)).toEqual(expect.arrayContaining(['audit_log', 'schema_migrations', 'workspace_roles', 'workspaces']));

    const second = await runMigrations(db.sql, logger);
    expect(second).toEqual({ applied: [], alreadyApplied: files.length });
  });

  it('refuse to start when an applied file was edited', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsCopy();
    await runMigrations(db.sql, logger, dir);
    const file = path.join(dir, '0001_init.sql');
    await writeFile(file, `${await readFile(file, 'utf8')}\n-- a sneaky edit\n`);
    const error = await runMigrations(db.sql, logger, dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/migrations\/0001_init\.sql was edited after it was applied on .*put the change in a new migration file/);
  });

  it('refuse a database migrated by a newer release', async () => {
    const db = await emptyDatabase();
    const newer = await migrationsCopy({ '9999_from_the_future.sql': 'CREATE TABLE future_things (id int);' });
    await runMigrations(db.sql, logger, newer);
    await expect(runMigrations(db.sql, logger)).rejects.toThrow(/does not know: 9999_from_the_future\.sql/);
  });

  it('roll back a failing file whole and keep earlier files applied', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsCopy({ '9000_half_good.sql': 'CREATE TABLE half_made (id int);\nSELECT * FROM no_such_table;' });
    await expect(runMigrations(db.sql, logger, dir)).rejects.toThrow(/no_such_table/);
    const [halfMade] = await db.sql`SELECT to_regclass('half_made') AS t`;
    expect(halfMade?.t).toBeNull();
    const applied = await db.sql<{ name: string }[]>`SELECT name FROM schema_migrations ORDER BY name`;
    expect(applied.map((row) => row.name)).toEqual((await readMigrationFiles()).map((file) => file.name));
  });

  it('reject files not named NNNN_what.sql', async () => {
    const dir = await migrationsCopy({ 'add-things.sql': 'SELECT 1;' });
    await expect(readMigrationFiles(dir)).rejects.toThrow(/named NNNN_what_it_does\.sql/);
  });

  it('are safe when two processes start together: each file is applied exactly once', async () => {
    const db = await emptyDatabase();
    const dir = await migrationsCopy({
      '9001_slow.sql': "SELECT pg_sleep(0.3); CREATE TABLE counted (id int); INSERT INTO counted VALUES (1);",
      '9002_after.sql': 'INSERT INTO counted VALUES (2);',
    });
    // Two separate pools stand in for two processes: separate sessions, racing for the lock.
    const a = createSql(db.url, logger, { max: 2 });
    const b = createSql(db.url, logger, { max: 2 });
    try {
      const [resultA, resultB] = await Promise.all([runMigrations(a, logger, dir), runMigrations(b, logger, dir)]);
      const all = [...resultA.applied, ...resultB.applied].sort();
      expect(all).toEqual((await readMigrationFiles(dir)).map((file) => file.name));
      const rows = await db.sql<{ id: number }[]>`SELECT id FROM counted ORDER BY id`;
      expect(rows.map((row) => row.id)).toEqual([1, 2]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});
