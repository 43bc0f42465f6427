import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PgBoss } from 'pg-boss';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { createSql } from '../../src/db/client.ts';
import { createLogger } from '../../src/lib/logger.ts';

const logger = createLogger('silent');
const servers: EmbeddedPostgres[] = [];
const dirs: string[] = [];
const isRoot = process.getuid?.() === 0;

async function tempDir(mode = 0o755) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nurture-embedded-'));
  await chmod(dir, mode);
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string) {
  const server = await startEmbeddedPostgres({ dataDir, logger, ephemeral: true });
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('embedded Postgres', () => {
  it('keeps its data across a restart, behind a password only we can read', async () => {
    const dataDir = await tempDir();
    const first = await start(dataDir);
    const sql1 = postgres(first.adminUrl, { max: 1, onnotice: () => {} });
    await sql1`CREATE TABLE kept (note text)`;
    await sql1`INSERT INTO kept VALUES ('still here')`;
    await sql1.end();
    await first.stop();

    const second = await start(dataDir);
    const sql2 = postgres(second.adminUrl, { max: 1 });
    expect(await sql2`SELECT note FROM kept`).toEqual([{ note: 'still here' }]);
    await sql2.end();

    const passwordFile = path.join(dataDir, 'postgres-password');
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    const wrong = new URL(second.adminUrl);
    wrong.password = 'guess';
    const intruder = postgres(wrong.toString(), { max: 1, connect_timeout: 5 });
    await expect(intruder`SELECT 1`).rejects.toThrow(/password authentication failed/);
    await intruder.end();
    expect((await readFile(passwordFile, 'utf8')).trim()).toBe(decodeURIComponent(new URL(second.adminUrl).password));
  });

  it("gives the app its Unix socket (libpq's ?host= form), which the app's client and pg-boss's driver both use", async () => {
    const server = await start(await tempDir());
    const url = server.urlFor('postgres');
    expect(new URL(url).searchParams.get('host')).toMatch(/^\/.*\/postgres$/);
    const sql = createSql(url, logger, { max: 1 });
    // A Unix-socket connection has no client address.
    expect(await sql`SELECT inet_client_addr() AS address`).toEqual([{ address: null }]);
    await sql.end();
    const boss = new PgBoss({ connectionString: url, schema: 'socket_check' });
    boss.on('error', () => {});
    await boss.start();
    await boss.createQueue('socket-check');
    expect(await boss.send('socket-check', {})).toEqual(expect.any(String));
    expect((await boss.getDb().executeSql('SELECT inet_client_addr() AS address')).rows).toEqual([{ address: null }]);
    await boss.stop({ graceful: false });
  });

  it('refuses a second process on the same DATA_DIR and says how to run several', async () => {
    const dataDir = await tempDir();
    await start(dataDir);
    const error = await startEmbeddedPostgres({ dataDir, logger }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    expect((error as Error).message).toMatch(/already running the embedded Postgres in .*give all of them its DATABASE_URL/);
  });

  it('takes over the orphaned Postgres a killed process left behind', async () => {
    const dataDir = await tempDir();
    const child = spawn(process.execPath, [path.join(import.meta.dirname, '../support/embedded-child.ts'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const server = await start(dataDir);
    const sql = postgres(server.adminUrl, { max: 1 });
    expect(await sql`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    await sql.end();
  });

  it(isRoot ? 'as root: explains which folder the postgres user cannot enter' : 'as a normal user: runs from a private folder', async () => {
    const privateParent = await tempDir(0o700);
    const dataDir = path.join(privateParent, 'data');
    await mkdir(dataDir);
    if (isRoot) {
      const error = await startEmbeddedPostgres({ dataDir, logger }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EmbeddedPostgresError);
      expect((error as Error).message).toContain(`cannot enter ${privateParent} (mode 700)`);
      expect((error as Error).message).toMatch(/set DATA_DIR to a folder outside it .* or set DATABASE_URL/);
    } else {
      const server = await start(dataDir);
      expect(server.port).toBeGreaterThan(0);
    }
  });
});
