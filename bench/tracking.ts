import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createSql, type Sql } from '../src/db/client.ts';
import { createLogger } from '../src/lib/logger.ts';
import { compileTemplate } from '../src/modules/templates/compile-template.ts';
import { emailTracking } from '../src/modules/tracking/email-tracking.ts';
import { startBenchServer } from './support/bench-app.ts';

/**
 * GET /t/c/<link>.<email> (verify both tokens, sign the visitor id, 302, hand the event to the batching
 * writer) against a bare Node `http` server answering the same 302, in the same run with the same load
 * tool (autocannon, 50 connections, 10 s each), both servers in processes of their own. Then the app is
 * stopped gracefully and its events counted: they must equal the redirects it answered.
 * Targets (issue #7): ≥ 50% of the bare server's requests/s, p99 < 20 ms, events stored = requests answered.
 * Each run also prints the CPU each process used per request: steadier than requests/s on a busy machine.
 */
const CONNECTIONS = 50;
const DURATION_S = 10;
const EMAILS = 2000;
const DESTINATION = 'https://shop.example.com/pricing?plan=pro';

/**
 * BENCH_TRACKING_ROLE: `web` (default) measures the endpoints as deployed behind a load balancer, the
 * scoring jobs they queue left to worker processes; `all` runs the workers in the same process too.
 */
const ROLE = process.env.BENCH_TRACKING_ROLE ?? 'web';
/** BENCH_TRACKING_NODE_OPTIONS: Node options for the app's process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const APP_NODE_OPTIONS = process.env.BENCH_TRACKING_NODE_OPTIONS;

export async function benchTracking() {
  console.log(`the app as NURTURE_ROLE=${ROLE}`);
  const app = await startBenchServer({ env: { NURTURE_ROLE: ROLE, ...(APP_NODE_OPTIONS ? { NODE_OPTIONS: APP_NODE_OPTIONS } : {}) } });
  const bare = await startBareRedirectServer();
  const sql = createSql(app.databaseUrl, createLogger('warn'), { max: 2 });
  try {
    const paths = await trackedClickPaths(sql, app.teamId, app.trackingSecret);
    const bareCpuBefore = cpuByRole();
    const bareResult = await load(bare.url, ['/t/c/x']);
    const bareCpu = cpuByRole(bareCpuBefore);
    const walBefore = await walStats(sql);
    const cpuBefore = cpuByRole();
    const appResult = await load(app.url, paths);
    const cpu = cpuByRole(cpuBefore);
    const walAfter = await walStats(sql);
    report('bare node http 302', bareResult);
    report('nurture GET /t/c/…', appResult);
    console.log(`nurture / bare: ${((appResult.requests.average / bareResult.requests.average) * 100).toFixed(0)}% of the requests per second`);
    const barePerRequest = (seconds: number) => ((seconds / bareResult.requests.total) * 1e6).toFixed(1);
    console.log(
      `CPU during the bare server's run: the server ${bareCpu.bare.toFixed(1)} s (${barePerRequest(bareCpu.bare)} µs a request), this process (autocannon) ${bareCpu.bench.toFixed(1)} s (${barePerRequest(bareCpu.bench)} µs)`,
    );
    const perRequest = (seconds: number) => ((seconds / appResult.requests.total) * 1e6).toFixed(1);
    console.log(
      `CPU during the app's run: app process ${cpu.app.toFixed(1)} s (${perRequest(cpu.app)} µs a request), Postgres ${cpu.postgres.toFixed(1)} s (${perRequest(cpu.postgres)} µs), ` +
        `this process (autocannon) ${cpu.bench.toFixed(1)} s (${perRequest(cpu.bench)} µs), of ${DURATION_S * 2} s on two cores`,
    );

    const perClick = (value: number) => value / appResult.requests.total;
    console.log(
      `WAL during the app's run: ${perClick(walAfter.bytes - walBefore.bytes).toFixed(0)} bytes, ${perClick(walAfter.records - walBefore.records).toFixed(2)} records ` +
        `and ${perClick(walAfter.fpi - walBefore.fpi).toFixed(3)} full-page images a click`,
    );

    await app.stopApp();
    const [row] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM events WHERE team_id = ${app.teamId} AND name = 'email_clicked'`;
    // autocannon counts the answers it read before its time was up; the requests still in flight then
    // (one per connection) were answered by the server too, after the count: `sent` includes them.
    const stored = Number(row!.n);
    const sent = appResult.requests.sent;
    console.log(
      `events stored after a graceful stop: ${stored.toLocaleString('en')}; requests sent: ${sent.toLocaleString('en')} ` +
        `(${appResult['3xx'].toLocaleString('en')} redirects read before the end, ${sent - appResult['3xx']} in flight at the end): ${stored === sent ? 'equal' : 'NOT EQUAL'}`,
    );
  } finally {
    await sql.end();
    await bare.stop();
    await app.stop();
  }
}

/** Leads and ledger rows as a send leaves them (sent an hour ago: the clicks are people's), and one click URL each. */
async function trackedClickPaths(sql: Sql, teamId: string, trackingSecret: string): Promise<string[]> {
  await sql`INSERT INTO workspaces (team_id) VALUES (${teamId}) ON CONFLICT DO NOTHING`;
  const leads = await sql<{ id: number }[]>`
    INSERT INTO leads (team_id, email) SELECT ${teamId}, 'click-' || n || '@example.com' FROM generate_series(1, ${EMAILS}) AS n RETURNING id`;
  const sentAt = new Date(Date.now() - 3_600_000);
  const sends = await sql<{ id: number; lead_id: number }[]>`
    INSERT INTO email_sends (team_id, lead_id, source_kind, source_id, chunk_id, state, sent_at)
    SELECT ${teamId}, id, 'newsletter', 1, 1, 'accepted', ${sentAt} FROM unnest(${leads.map((lead) => lead.id)}::bigint[]) AS id
    RETURNING id, lead_id`;
  const template = compileTemplate({ name: 'Bench', stage: 'awareness', subject: 'Hi', preheader: '', body: `See [pricing](${DESTINATION}).` });
  return sends.map((send) => {
    const tracking = emailTracking({ trackingSecret, publicUrl: '' }, template, { teamId, sendId: send.id, leadId: send.lead_id, sentAt });
    return tracking.clickUrl(DESTINATION);
  });
}

function load(url: string, paths: readonly string[]): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' },
    requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }],
  });
}

function report(label: string, result: autocannon.Result) {
  const others = result.requests.total - result['3xx'];
  console.log(
    `${label}: ${Math.round(result.requests.average).toLocaleString('en')} req/s, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ` +
      `${result['3xx'].toLocaleString('en')} redirects${others > 0 || result.errors > 0 ? `, ${others} other answers, ${result.errors} errors` : ''}`,
  );
}

/** Postgres's WAL counters so far (pg_stat_wal): what the events' rows and index entries cost it to log. */
async function walStats(sql: Sql) {
  const [row] = await sql<{ records: string; fpi: string; bytes: string }[]>`SELECT wal_records AS records, wal_fpi AS fpi, wal_bytes AS bytes FROM pg_stat_wal`;
  return { records: Number(row!.records), fpi: Number(row!.fpi), bytes: Number(row!.bytes) };
}

/** The baseline: Node's http module answering the same redirect, in a process of its own. */
async function startBareRedirectServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const script = `
    const server = require('node:http').createServer((req, res) => {
      res.writeHead(302, { location: ${JSON.stringify(`${DESTINATION}&nv=visitor`)}, 'cache-control': 'no-store', 'content-length': 0 });
      res.end();
    });
    server.keepAliveTimeout = 65000;
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * CPU seconds used so far (minus `since`) by the app's process, the bare server's, the Postgres (the
 * postmaster and its backends, children of this process) and this process (autocannon): where the two
 * cores went during a run. A backend that exits between two readings is not counted.
 */
function cpuByRole(since?: { app: number; bare: number; postgres: number; bench: number }) {
  const processes = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command's closing parenthesis: state ppid … utime(14) stime(15).
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return [{ pid: Number(pid), ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS, cmdline }];
      } catch {
        return []; // exited meanwhile
      }
    });
  const children = (ppid: number) => processes.filter((candidate) => candidate.ppid === ppid);
  const sum = (list: readonly { seconds: number }[]) => list.reduce((total, entry) => total + entry.seconds, 0);
  const postmasters = children(process.pid).filter((child) => child.cmdline.includes('postgres'));
  const ownUsage = process.cpuUsage();
  const now = {
    app: sum(children(process.pid).filter((child) => child.cmdline.includes('src/main.ts'))),
    bare: sum(children(process.pid).filter((child) => child.cmdline.includes('createServer'))),
    postgres: sum(postmasters) + sum(postmasters.flatMap((postmaster) => children(postmaster.pid))),
    bench: (ownUsage.user + ownUsage.system) / 1e6,
  };
  return since ? { app: now.app - since.app, bare: now.bare - since.bare, postgres: now.postgres - since.postgres, bench: now.bench - since.bench } : now;
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;
