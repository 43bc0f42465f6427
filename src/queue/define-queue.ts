import type { Queue, WorkOptions } from 'pg-boss';
import type { z } from 'zod';
import type { Services } from '../services.ts';

/**
 * One queue = one name, one payload schema, its options, one handler. Handlers `return` for
 * outcomes that must not be retried and `throw` for transient failures that should be.
 */
export interface QueueDefinition<Schema extends z.ZodType = z.ZodType> {
  /** Dotted lower-case, e.g. `slack.publish-home`. */
  readonly name: string;
  readonly payload: Schema;
  /** How the queue stores and retries jobs (pg-boss createQueue options). */
  readonly queue: Omit<Queue, 'name' | 'deadLetter'>;
  /** How workers fetch (pg-boss work options): chosen per queue for its latency and throughput. */
  readonly worker: Pick<WorkOptions, 'batchSize' | 'pollingIntervalSeconds' | 'notifyPollingIntervalSeconds' | 'burstWhenBatchFull' | 'localConcurrency'>;
  readonly handle: (payload: z.infer<Schema>, context: JobContext) => Promise<void>;
  /** Also run on a cron schedule (UTC), set up by worker processes; pg-boss fires it once across all of them. */
  readonly schedule?: { readonly cron: string; readonly payload: z.input<Schema> };
}

export interface JobContext {
  readonly services: Services;
  readonly jobId: string;
  readonly retryCount: number;
  readonly signal: AbortSignal;
}

export function defineQueue<Schema extends z.ZodType>(definition: QueueDefinition<Schema>): QueueDefinition<Schema> {
  if (!/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/.test(definition.name)) {
    throw new Error(`Queue name "${definition.name}" must be dotted lower-case, e.g. "email.send-batch"`);
  }
  return definition;
}

/** Where jobs go when their payload is invalid or their retries are spent: kept for inspection and redrive. */
export const DEAD_LETTER_QUEUE = 'nurture.dead-letter';
