import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createSql, type Sql } from '../src/db/client.ts';
import { createLogger } from '../src/lib/logger.ts';
import { compileTemplate } from '../src/modules/templates/compile-template.ts';
import { emailTracking } from '../src/modules/tracking/email-tracking.ts';
import { startBenchServer } from './support/bench-app.ts';

/**
 * GET /t/c/<link>.<email> (verify both tokens, 302 with the visitor id, hand the event to the batching
 * writer) against a bare Node `http` server answering the same 302, in the same run with the same load
 * tool and the same requests (autocannon, 50 connections, the same 2,000 click paths), both servers in
 * processes of their own, taking turns for 10 s each (3 rounds by default) after a warm-up of 3 s each.
 * Then the app is stopped gracefully and its events counted: they must equal the redirects it answered.
 * Targets (issue #7): ≥ 50% of the bare server's requests/s, p99 < 20 ms, events stored = requests answered.
 * Each run also prints the CPU each process used per request: steadier than requests/s on a busy machine.
 */
const CONNECTIONS = 50;
const DURATION_S = 10;
/** BENCH_TRACKING_ROUNDS: how many times the two servers take turns (10 s each). */
const ROUNDS = Number(process.env.BENCH_TRACKING_ROUNDS ?? 3);
/** BENCH_TRACKING_BUILD_EACH=1: build every request as it goes out (setupRequest), as before 2026-11-27, for comparing with older figures. */
const BUILD_EACH = process.env.BENCH_TRACKING_BUILD_EACH === '1';
const WARM_UP_S = 3;
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
    // Rounds alternate the two servers, so that the machine's good and bad seconds (other work on the
    // host) fall on both alike; the figures are over all rounds.
    const bareRounds: autocannon.Result[] = [];
    const appRounds: autocannon.Result[] = [];
    const bareCpu = { bare: 0, bench: 0 };
    const cpu = { app: 0, postgres: 0, bench: 0 };
    const wal = { bytes: 0, records: 0, fpi: 0 };
    // Neither is measured cold: the first seconds compile the code and fill the caches (a deployed
    // server runs for days). The app's warm-up clicks are stored too, and counted below.
    await load(bare.url, paths, WARM_UP_S);
    const warmUp = await load(app.url, paths, WARM_UP_S);
    for (let round = 1; round <= ROUNDS; round++) {
      const bareCpuBefore = cpuByRole();
      const bareResult = await load(bare.url, paths);
      const bareUsed = cpuByRole(bareCpuBefore);
      const walBefore = await walStats(sql);
      const cpuBefore = cpuByRole();
      const appResult = await load(app.url, paths);
      const appUsed = cpuByRole(cpuBefore);
      const walAfter = await walStats(sql);
      bareRounds.push(bareResult);
      appRounds.push(appResult);
      bareCpu.bare += bareUsed.bare;
      bareCpu.bench += bareUsed.bench;
      for (const key of ['app', 'postgres', 'bench'] as const) cpu[key] += appUsed[key];
      for (const key of ['bytes', 'records', 'fpi'] as const) wal[key] += walAfter[key] - walBefore[key];
      console.log(
        `round ${round}: bare ${perSecond(bareResult)} req/s, nurture ${perSecond(appResult)} req/s (p99 ${appResult.latency.p99} ms): ` +
          `${((appResult.requests.average / bareResult.requests.average) * 100).toFixed(0)}%`,
      );
    }
    const bareTotal = sum(bareRounds.map((result) => result.requests.total));
    const appTotal = sum(appRounds.map((result) => result.requests.total));
    report('bare node http 302', bareRounds);
    report('nurture GET /t/c/…', appRounds);
    console.log(`nurture / bare: ${((meanPerSecond(appRounds) / meanPerSecond(bareRounds)) * 100).toFixed(0)}% of the requests per second (all rounds)`);
    const barePerRequest = (seconds: number) => ((seconds / bareTotal) * 1e6).toFixed(1);
    console.log(
      `CPU during the bare server's runs: the server ${bareCpu.bare.toFixed(1)} s (${barePerRequest(bareCpu.bare)} µs a request), this process (autocannon) ${bareCpu.bench.toFixed(1)} s (${barePerRequest(bareCpu.bench)} µs)`,
    );
    const perRequest = (seconds: number) => ((seconds / appTotal) * 1e6).toFixed(1);
    console.log(
      `CPU during the app's runs: app process ${cpu.app.toFixed(1)} s (${perRequest(cpu.app)} µs a request), Postgres ${cpu.postgres.toFixed(1)} s (${perRequest(cpu.postgres)} µs), ` +
        `this process (autocannon) ${cpu.bench.toFixed(1)} s (${perRequest(cpu.bench)} µs), of ${ROUNDS * DURATION_S * 2} s on two cores`,
    );
    const perClick = (value: number) => value / appTotal;
    console.log(
      `WAL during the app's runs: ${perClick(wal.bytes).toFixed(0)} bytes, ${perClick(wal.records).toFixed(2)} records and ${perClick(wal.fpi).toFixed(3)} full-page images a click`,
    );

    await app.stopApp();
    const [row] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM events WHERE team_id = ${app.teamId} AND name = 'email_clicked'`;
    // autocannon counts the answers it read before its time was up; the requests still in flight then
    // (one per connection) were answered by the server too, after the count: `sent` includes them.
    const stored = Number(row!.n);
    const sent = warmUp.requests.sent + sum(appRounds.map((result) => result.requests.sent));
    const redirects = warmUp['3xx'] + sum(appRounds.map((result) => result['3xx']));
    console.log(
      `events stored after a graceful stop: ${stored.toLocaleString('en')}; requests sent: ${sent.toLocaleString('en')} ` +
        `(${redirects.toLocaleString('en')} redirects read before the ends of the warm-up and the rounds, ${sent - redirects} in flight at their ends): ${stored === sent ? 'equal' : 'NOT EQUAL'}`,
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

/**
 * Both servers get the same requests, built once: the click paths, each connection going through its own
 * share of them in turn, so the connections click different emails at any moment and all of them in a
 * few milliseconds. Building each request as it goes out (autocannon's setupRequest, as this benchmark did
 * before 2026-11-27) costs autocannon several µs a request on the same two cores and held the bare server
 * to ~58,000/s, which flattered the ratio (bench/README.md → tracking).
 */
function load(url: string, paths: readonly string[], durationS = DURATION_S): Promise<autocannon.Result> {
  const common = {
    url,
    connections: CONNECTIONS,
    duration: durationS,
    headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' },
  };
  if (BUILD_EACH) {
    let next = 0;
    return autocannon({ ...common, requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }] });
  }
  let connection = 0;
  return autocannon({
    ...common,
    requests: [{ method: 'GET', path: paths[0]! }],
    setupClient(client) {
      // Its own share of the paths (every 50th), built as the connection opens: a few dozen each.
      const own = connection++ % CONNECTIONS;
      client.setRequests(paths.filter((_, index) => index % CONNECTIONS === own).map((path) => ({ method: 'GET', path })));
    },
  });
}

/** Over all rounds: requests per second, the worst round's latency percentiles, what else came back. */
function report(label: string, rounds: readonly autocannon.Result[]) {
  const total = sum(rounds.map((result) => result.requests.total));
  const redirects = sum(rounds.map((result) => result['3xx']));
  const errors = sum(rounds.map((result) => result.errors));
  const worst = (pick: (result: autocannon.Result) => number) => Math.max(...rounds.map(pick));
  console.log(
    `${label}: ${Math.round(meanPerSecond(rounds)).toLocaleString('en')} req/s, latency p50 ${worst((result) => result.latency.p50)} ms, ` +
      `p99 ${worst((result) => result.latency.p99)} ms, max ${worst((result) => result.latency.max)} ms (the worst round's); ` +
      `${redirects.toLocaleString('en')} redirects${total - redirects > 0 || errors > 0 ? `, ${total - redirects} other answers, ${errors} errors` : ''}`,
  );
}

const perSecond = (result: autocannon.Result) => Math.round(result.requests.average).toLocaleString('en');
const meanPerSecond = (rounds: readonly autocannon.Result[]) => sum(rounds.map((result) => result.requests.average)) / rounds.length;
const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

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
