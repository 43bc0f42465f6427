import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/modules/api-keys/api-keys.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const CLI = path.join(import.meta.dirname, '../../src/cli/import-leads.ts');
const BOM = '\uFEFF';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command-line import as a person runs it: its own process, talking to the running app over HTTP. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('CSV import from the command line', () => {
  let app: TestApp;
  let key: string;
  let dir: string;
  const file = async (name: string, content: string | Buffer) => {
    const target = path.join(dir, name);
    await writeFile(target, content);
    return target;
  };

  beforeAll(async () => {
    app = await startTestApp({ role: 'web' });
    ({ key } = await createApiKey(app.nurture.services.sql, { teamId: app.slack.teamId, label: 'cli test', createdBy: 'U0ADMIN' }));
    dir = await mkdtemp(path.join(os.tmpdir(), 'nurture-cli-import-'));
  });
  afterAll(async () => {
    await app.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a clean file and exits 0', async () => {
    const csv = await file('clean.csv', 'email,first name,company,Plan\nann@example.com,Ann,"Acme, Inc",Gold\nbo@example.com,Bo,Initech,\n');
    const run = await runCli(['--url', app.url, '--key', key, csv]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      'Imported clean.csv: 2 rows read — 2 new, 0 updated, 0 unchanged, 0 not imported.\n' +
        'Columns: "email" → email, "first name" → first_name, "company" → company; kept as custom attributes: "Plan".\n',
    );
    expect(run.code).toBe(0);
    expect(await app.db.sql`SELECT email, first_name, company, attributes FROM leads WHERE email = 'ann@example.com'`).toEqual([
      { email: 'ann@example.com', first_name: 'Ann', company: 'Acme, Inc', attributes: { Plan: 'Gold' } },
    ]);
  });

  it('imports the good rows of a messy Japanese file, lists the bad rows by number and exits 1', async () => {
    const csv = await file(
      'messy.csv',
      BOM +
        'メールアドレス,姓,名,会社名\r\n' +
        'yamada@example.jp,山田,太郎,"株式会社テスト, 東京"\r\n' +
        'broken@example.jp,Broken\r\n' +
        'not-an-email,Bad,Address,Acme\r\n' +
        'ann@example.com,,Ann,\r\n',
    );
    const run = await runCli(['--url', app.url, '--key', key, csv]);
    expect(run.stdout).toBe(
      'Imported, with problems, messy.csv: 4 rows read — 1 new, 0 updated, 1 unchanged, 2 not imported.\n' +
        'Rows not imported:\n' +
        '  row 3 (broken@example.jp): row 3 has 2 columns, the header has 4 (a missing or extra comma, or a quote not closed?)\n' +
        '  row 4 (not-an-email): email is not a valid address\n' +
        'Fix those rows and import the file again: leads already imported are updated, not duplicated.\n' +
        'Columns: "メールアドレス" → email, "姓" → last_name, "名" → first_name, "会社名" → company.\n',
    );
    expect(run.code).toBe(1);
    expect(await app.db.sql`SELECT last_name, first_name, company FROM leads WHERE email = 'yamada@example.jp'`).toEqual([
      { last_name: '山田', first_name: '太郎', company: '株式会社テスト, 東京' },
    ]);
  });

  it('sends a file of 2,500 rows in batches of 1,000, the key from NURTURE_API_KEY, and prints --stats on stderr', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => `bulk${i}@example.com,Lead ${i},"Company ${i % 7}, Ltd"`);
    const csv = await file('bulk.csv', `email,first name,company\n${rows.join('\n')}\n`);
    const run = await runCli(['--url', app.url, '--stats', csv], { NURTURE_API_KEY: key });
    expect(run.stdout).toMatch(/^Imported bulk\.csv: 2,500 rows read — 2,500 new, 0 updated, 0 unchanged, 0 not imported\.\n/);
    expect(JSON.parse(run.stderr.trim().split('\n').at(-1)!)).toMatchObject({ rows: 2500, maxRssKiB: expect.any(Number) });
    expect(run.code).toBe(0);
    const [count] = await app.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM leads WHERE email LIKE 'bulk%'`;
    expect(count!.n).toBe(2500);
  });

  it('stops with exit code 2 when the key is refused', async () => {
    const csv = await file('refused.csv', 'email\nrefused@example.com\n');
    const run = await runCli(['--url', app.url, '--key', 'nurture_wrong', csv]);
    expect(run.stderr).toContain('Error: the API key was refused (401: this API key is not valid: it is mistyped or was revoked)');
    expect(run.stdout).toBe('');
    expect(run.code).toBe(2);
    expect(await app.db.sql`SELECT 1 FROM leads WHERE email = 'refused@example.com'`).toEqual([]);
  });

  it('refuses a file without an email column, and one that is not UTF-8, with exit code 2', async () => {
    const noEmail = await runCli(['--url', app.url, '--key', key, await file('no-email.csv', 'Name,Company\nAnn,Acme\n')]);
    expect(noEmail.stderr).toBe(
      'Error: cannot import no-email.csv: there is no email column. The first row should name the columns; I found “Name”, “Company”. Name the column with the addresses “email”. Nothing was imported.\n',
    );
    expect(noEmail.code).toBe(2);

    const sjis = Buffer.concat([Buffer.from('email,last name\nyamada@example.jp,'), Buffer.from([0x8e, 0x52, 0x93, 0x63]), Buffer.from('\n')]);
    const notUtf8 = await runCli(['--url', app.url, '--key', key, await file('sjis.csv', sjis)]);
    expect(notUtf8.stderr).toContain('Error: cannot import sjis.csv: the file is not UTF-8 — in Excel use Save As → “CSV UTF-8 (Comma delimited)”');
    expect(notUtf8.code).toBe(2);
  });

  it('explains bad arguments with exit code 2', async () => {
    const missing = await runCli(['--key', key, path.join(dir, 'clean.csv')]);
    expect(missing.stderr).toMatch(/^--url is required: where Nurture runs, e.g. --url https:\/\/nurture\.example\.com\n\nUsage: npm run import/);
    expect(missing.code).toBe(2);

    const noFile = await runCli(['--url', app.url, '--key', key, path.join(dir, 'nope.csv')]);
    expect(noFile.stderr).toBe(`Error: there is no file ${path.join(dir, 'nope.csv')}\n`);
    expect(noFile.code).toBe(2);
  });
});
