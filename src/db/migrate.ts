import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../lib/logger.ts';
import type { Sql } from './client.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Any two Nurture processes migrating the same database take turns on this advisory lock. */
const MIGRATION_LOCK_KEY = 727_465_001;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrationFile {
  name: string;
  checksum: string;
  text: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies migrations/*.sql in name order, each file in its own transaction, forward only.
 * Refuses to start when a file that was applied has since been edited, or when the database
 * has migrations this code does not know (an older release pointed at a newer database).
 */
export async function runMigrations(sql: Sql, logger: Logger, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = await readMigrationFiles(dir);
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
    await tx`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
  });

  const applied: string[] = [];
  let alreadyApplied = 0;
  for (const file of files) {
    const didApply = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
      const [row] = await tx<{ checksum: string; applied_at: Date }[]>`
        SELECT checksum, applied_at FROM schema_migrations WHERE name = ${file.name}`;
      if (row) {
        if (row.checksum !== file.checksum) {
          throw new MigrationError(
            `migrations/${file.name} was edited after it was applied on ${row.applied_at.toISOString()}. ` +
              'Migrations are forward-only: restore the file as it was and put the change in a new migration file.',
          );
        }
        return false;
      }
      await tx.unsafe(file.text);
      await tx`INSERT INTO schema_migrations (name, checksum) VALUES (${file.name}, ${file.checksum})`;
      return true;
    });
    if (didApply) {
      applied.push(file.name);
      logger.info({ migration: file.name }, 'migration applied');
    } else {
      alreadyApplied += 1;
    }
  }

  const known = new Set(files.map((file) => file.name));
  const unknown = (await sql<{ name: string }[]>`SELECT name FROM schema_migrations ORDER BY name`).filter((row) => !known.has(row.name));
  if (unknown.length > 0) {
    throw new MigrationError(
      `The database has migrations this version of Nurture does not know: ${unknown.map((row) => row.name).join(', ')}. ` +
        'It was migrated by a newer release; run that release (or newer) against it.',
    );
  }
  return { applied, alreadyApplied };
}

export async function readMigrationFiles(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    if (!/^\d{4}_[a-z0-9_]+\.sql$/.test(name)) {
      throw new MigrationError(`migrations/${name}: migration files are named NNNN_what_it_does.sql (e.g. 0002_add_segments.sql)`);
    }
    const text = await readFile(path.join(dir, name), 'utf8');
    files.push({ name, text, checksum: createHash('sha256').update(text).digest('hex') });
  }
  return files;
}
