import { startBenchServer, summarize } from './support/bench-app.ts';

/**
 * POST /api/v1/leads in batches of 1,000 (new leads, then the same leads with a changed field), with
 * one and with several requests in flight, from this process to the app running as its own process. Target: ≥ 20,000 leads/s on a 2-core machine.
 */
const BATCHES = 100;
const BATCH_SIZE = 1000;
const INDUSTRIES = ['manufacturing', 'logistics', 'software', 'finance', 'retail', 'healthcare'];
const STAGES = ['awareness', 'consideration', 'decision'];

export async function benchLeadIngest() {
  const app = await startBenchServer();
  try {
    for (const concurrency of [1, 2, 4]) {
      const run = `c${concurrency}`;
      const batches = Array.from({ length: BATCHES }, (_, b) => makeBatch(run, b, 'Initial'));
      const created = await ingest(app.url, app.apiKey, batches, concurrency);
      report(`insert new leads, ${concurrency} in flight`, created);
      const changed = Array.from({ length: BATCHES }, (_, b) => makeBatch(run, b, 'Changed'));
      report(`update existing leads, ${concurrency} in flight`, await ingest(app.url, app.apiKey, changed, concurrency));
    }
  } finally {
    await app.stop();
  }
}

function makeBatch(run: string, batch: number, titlePrefix: string) {
  return Array.from({ length: BATCH_SIZE }, (_, i) => {
    const n = batch * BATCH_SIZE + i;
    return {
      email: `lead-${run}-${n}@company${n % 5000}.example`,
      first_name: n % 7 === 0 ? '太郎' : `First${n}`,
      last_name: n % 7 === 0 ? '山田' : `Last${n}`,
      company: `Company ${n % 5000}, Inc.`,
      title: `${titlePrefix} VP of Operations`,
      industry: INDUSTRIES[n % INDUSTRIES.length],
      stage: STAGES[n % STAGES.length],
      time_zone: n % 3 === 0 ? 'Asia/Tokyo' : 'Europe/Berlin',
      attributes: { employees: 50 + (n % 5000), plan: n % 2 ? 'pro' : 'free' },
    };
  });
}

interface IngestResult {
  seconds: number;
  leads: number;
  latencies: number[];
}

async function ingest(url: string, key: string, batches: object[][], concurrency: number): Promise<IngestResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const body = JSON.stringify(batches[next++]);
        const t0 = performance.now();
        const response = await fetch(`${url}/api/v1/leads`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
        const result = (await response.json()) as { failed: number };
        if (response.status !== 200 || result.failed > 0) throw new Error(`batch failed: ${response.status} ${JSON.stringify(result).slice(0, 300)}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, leads: batches.length * BATCH_SIZE, latencies };
}

function report(label: string, result: IngestResult) {
  console.log(`${label}: ${Math.round(result.leads / result.seconds).toLocaleString('en')} leads/s (${result.leads.toLocaleString('en')} leads in ${result.seconds.toFixed(2)} s)`);
  summarize(`  request latency per batch of ${BATCH_SIZE}`, result.latencies);
}
