import { PgBoss, type JobInsert, type JobResult, type SendOptions } from 'pg-boss';
import type { z } from 'zod';
import type { Role } from '../config.ts';
import type { Logger } from '../lib/logger.ts';
import type { Services } from '../services.ts';
import { DEAD_LETTER_QUEUE, type QueueDefinition } from './define-queue.ts';

export const BOSS_SCHEMA = 'pgboss';

/** Validates the payload against the queue's schema, then sends: a bad payload fails at the caller, not in a worker. */
export interface Enqueue {
  <S extends z.ZodType>(queue: QueueDefinition<S>, payload: z.input<S>, options?: SendOptions): Promise<string | null>;
  /** Fan-out in one statement (pg-boss insert), never send() in a loop. */
  many<S extends z.ZodType>(queue: QueueDefinition<S>, jobs: Array<{ payload: z.input<S> } & Omit<JobInsert, 'data'>>): Promise<void>;
}

export interface QueueStatus {
  ok: boolean;
  queues: Record<string, { queued: number; active: number; failed: number }>;
}

export interface QueueSystem {
  readonly boss: PgBoss;
  readonly enqueue: Enqueue;
  /** Starts a worker per registered queue (the `worker` and `all` roles). */
  startWorkers(services: Services): Promise<void>;
  status(): Promise<QueueStatus>;
  /** Stops fetching, waits for running jobs (up to the timeout), closes the pool. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface QueueSystemOptions {
  url: string;
  logger: Logger;
  role: Role;
  queues: readonly QueueDefinition[];
  /** Connections pg-boss may hold; its own pool, separate from ours (see DEPENDENCY-NOTES). */
  poolSize?: number;
}

export async function startQueueSystem(options: QueueSystemOptions): Promise<QueueSystem> {
  const { logger, queues } = options;
  const runsWorkers = options.role !== 'web';
  const boss = new PgBoss({
    connectionString: options.url,
    schema: BOSS_SCHEMA,
    max: options.poolSize ?? 4,
    application_name: `nurture-${options.role}-queue`,
    useListenNotify: true,
    // Maintenance and cron belong with the workers; pg-boss coordinates several instances itself.
    supervise: runsWorkers,
    schedule: runsWorkers,
    migrate: true,
  });
  boss.on('error', (error) => logger.error({ err: error }, 'queue error'));
  boss.on('warning', (warning) => logger.warn({ warning }, 'queue warning'));
  await boss.start({ attempts: 3 });

  await boss.createQueue(DEAD_LETTER_QUEUE, { retentionSeconds: 14 * 24 * 3600, deleteAfterSeconds: 30 * 24 * 3600 });
  for (const queue of queues) {
    const settings = { ...queue.queue, deadLetter: DEAD_LETTER_QUEUE };
    await boss.createQueue(queue.name, settings);
    // createQueue keeps an existing queue's options: apply what the code says now (except what pg-boss
    // fixes at creation: policy, partitioning).
    const { policy: _policy, partition: _partition, retryDelayMax: _max, heartbeatSeconds: _heartbeat, ...changeable } = settings;
    await boss.updateQueue(queue.name, changeable);
  }
  const byName = new Map(queues.map((queue) => [queue.name, queue]));

  const enqueue = (async (queue, payload, sendOptions) => {
    assertRegistered(byName, queue);
    return boss.send(queue.name, queue.payload.parse(payload) as object, sendOptions ?? {});
  }) as Enqueue;
  enqueue.many = async (queue, jobs) => {
    assertRegistered(byName, queue);
    if (jobs.length === 0) return;
    await boss.insert(
      queue.name,
      jobs.map(({ payload, ...rest }) => ({ ...rest, data: queue.payload.parse(payload) as object })),
    );
  };

  let stopped: Promise<void> | undefined;
  return {
    boss,
    enqueue,
    async startWorkers(services) {
      for (const queue of queues) {
        if (queue.schedule) await boss.schedule(queue.name, queue.schedule.cron, queue.payload.parse(queue.schedule.payload) as object, { tz: 'UTC' });
        await boss.work(queue.name, { ...queue.worker, perJobResults: true }, (jobs) => runBatch(queue, jobs, services));
      }
      logger.info({ queues: queues.map((queue) => queue.name) }, 'queue workers started');
    },
    async status() {
      const rows = await boss.getQueues([DEAD_LETTER_QUEUE, ...queues.map((queue) => queue.name)]);
      return {
        ok: true,
        queues: Object.fromEntries(
          rows.map((row) => [row.name, { queued: row.queuedCount, active: row.activeCount, failed: row.failedCount }]),
        ),
      };
    },
    stop(timeoutMs = 30_000) {
      stopped ??= boss.stop({ graceful: true, close: true, timeout: timeoutMs });
      return stopped;
    },
  };
}

function assertRegistered(byName: Map<string, QueueDefinition>, queue: QueueDefinition) {
  if (byName.get(queue.name) !== queue) {
    throw new Error(`Queue "${queue.name}" is not registered: add it to src/queue/queues.ts`);
  }
}

async function runBatch(
  queue: QueueDefinition,
  jobs: Array<{ id: string; data: unknown; retryCount: number; signal: AbortSignal }>,
  services: Services,
): Promise<JobResult[]> {
  const log = services.logger.child({ queue: queue.name });
  return Promise.all(
    jobs.map(async (job): Promise<JobResult> => {
      const parsed = queue.payload.safeParse(job.data);
      if (!parsed.success) {
        // Retrying cannot fix a malformed payload: park it in the dead-letter queue at once.
        log.error({ jobId: job.id, issues: parsed.error.issues }, 'job payload is invalid; moved to the dead-letter queue');
        return { id: job.id, status: 'deadletter', output: { error: 'invalid payload', issues: parsed.error.issues } };
      }
      try {
        await queue.handle(parsed.data, { services, jobId: job.id, retryCount: job.retryCount, signal: job.signal });
        return { id: job.id, status: 'completed' };
      } catch (error) {
        log.warn({ jobId: job.id, retryCount: job.retryCount, err: error }, 'job failed; it will be retried while retries remain');
        return { id: job.id, status: 'failed', output: { error: error instanceof Error ? error.message : String(error) } };
      }
    }),
  );
}
