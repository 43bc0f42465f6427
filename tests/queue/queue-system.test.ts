import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OutboxTransport } from '../../src/modules/delivery/outbox-transport.ts';
import { DEAD_LETTER_QUEUE, defineQueue } from '../../src/queue/define-queue.ts';
import { startQueueSystem, type QueueSystem } from '../../src/queue/queue-system.ts';
import { createLogger } from '../../src/lib/logger.ts';
import type { Services } from '../../src/services.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testConfig } from '../support/test-config.ts';
import { waitFor } from '../support/wait-for.ts';

const logger = createLogger('silent');

/** A queue whose handler records what it saw; `failTimes` makes the first attempts throw. */
function recordingQueue(options: { failTimes?: number; holdMs?: number } = {}) {
  const seen: Array<{ n: number; jobId: string; retryCount: number }> = [];
  const attempts = new Map<number, number>();
  const queue = defineQueue({
    name: 'test.record',
    payload: z.object({ n: z.number().int() }),
    queue: { notify: true, retryLimit: 3, retryDelay: 1, retryBackoff: false, expireInSeconds: 30 },
    // Retries wait for the next poll, and a notify queue polls at notifyPollingIntervalSeconds.
    worker: { batchSize: 20, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
    async handle({ n }, { jobId, retryCount }) {
      const attempt = (attempts.get(n) ?? 0) + 1;
      attempts.set(n, attempt);
      if (options.holdMs) await new Promise((resolve) => setTimeout(resolve, options.holdMs));
      if (attempt <= (options.failTimes ?? 0)) throw new Error(`transient failure ${attempt}`);
      seen.push({ n, jobId, retryCount });
    },
  });
  return { queue, seen, attempts };
}

let db: TestDatabase;
const systems: QueueSystem[] = [];

function servicesFor(system: QueueSystem): Services {
  return { config: testConfig(), clock: systemClock, logger, sql: db.sql, slack: new WebClient('xoxb-unused'), enqueue: system.enqueue, email: new OutboxTransport(db.sql), emailSources: new Map() };
}

async function start(queue: ReturnType<typeof recordingQueue>['queue'], role: 'all' | 'web' = 'all') {
  const system = await startQueueSystem({ url: db.url, logger, role, queues: [queue] });
  systems.push(system);
  return system;
}

beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const system of systems.splice(0)) await system.stop(5000);
  await db.drop();
});

describe('queue system', () => {
  it('refuses a bad payload at the caller, before anything is stored', async () => {
    const { queue } = recordingQueue();
    const system = await start(queue);
    await expect(system.enqueue(queue, { n: 'one' } as never)).rejects.toThrow(/expected number/);
    expect(await system.boss.findJobs(queue.name)).toEqual([]);
  });

  it('refuses a queue that is not in the registry, saying where to add it', async () => {
    const { queue } = recordingQueue();
    const system = await start(queue);
    const stray = defineQueue({ ...queue, name: 'test.stray' });
    await expect(system.enqueue(stray, { n: 1 })).rejects.toThrow('Queue "test.stray" is not registered: add it to src/queue/queues.ts');
  });

  it('moves a job whose stored payload is invalid straight to the dead-letter queue, without calling the handler', async () => {
    const { queue, attempts } = recordingQueue();
    const system = await start(queue);
    await system.boss.send(queue.name, { n: 'not a number' });
    await system.startWorkers(servicesFor(system));
    const dead = await waitFor(async () => {
      const jobs = await system.boss.findJobs(DEAD_LETTER_QUEUE);
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(dead[0]?.data).toEqual({ n: 'not a number' });
    expect(attempts.size).toBe(0);
  });

  it('retries a handler that throws until it succeeds', async () => {
    const { queue, seen, attempts } = recordingQueue({ failTimes: 2 });
    const system = await start(queue);
    await system.startWorkers(servicesFor(system));
    await system.enqueue(queue, { n: 7 });
    await waitFor(() => seen.length === 1, { timeoutMs: 15_000 });
    expect(attempts.get(7)).toBe(3);
    expect(seen[0]).toMatchObject({ n: 7, retryCount: 2 });
  });

  it('with two worker processes on one database, handles each of 300 fanned-out jobs exactly once', async () => {
    const first = recordingQueue();
    const second = recordingQueue();
    const a = await start(first.queue);
    const b = await start(second.queue);
    await a.startWorkers(servicesFor(a));
    await b.startWorkers(servicesFor(b));
    await a.enqueue.many(first.queue, Array.from({ length: 300 }, (_, n) => ({ payload: { n } })));
    await waitFor(() => first.seen.length + second.seen.length === 300, { timeoutMs: 15_000 });
    const all = [...first.seen, ...second.seen].map((entry) => entry.n).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 300 }, (_, n) => n));
    // And nothing is left behind: every job completed.
    const jobs = await a.boss.findJobs(first.queue.name);
    expect(jobs.filter((job) => job.state !== 'completed')).toEqual([]);
  });

  it('stops gracefully: a job that is running finishes before stop() resolves', async () => {
    const { queue, seen, attempts } = recordingQueue({ holdMs: 400 });
    const system = await start(queue);
    await system.startWorkers(servicesFor(system));
    await system.enqueue(queue, { n: 1 });
    await waitFor(() => attempts.get(1) === 1);
    await system.stop(5000);
    expect(seen.map((entry) => entry.n)).toEqual([1]);
  });

  it('in the web role, sends jobs but runs no maintenance', async () => {
    const { queue } = recordingQueue();
    const web = await start(queue, 'web');
    await web.enqueue(queue, { n: 1 });
    expect(await web.boss.findJobs(queue.name, { queued: true })).toEqual([expect.objectContaining({ data: { n: 1 } })]);
    expect(web.boss.isMaintaining()).toBe(false);
  });
});
