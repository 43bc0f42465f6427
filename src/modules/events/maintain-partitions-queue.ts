import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { deleteDefaultPartitionRowsBefore, dropPartition, ensureEventPartitions, partitionsBefore } from './queries.ts';

/** Raw events are kept this long; see migrations/0002 for the plan. */
export const EVENT_RETENTION_MONTHS = 24;
export const MONTHS_CREATED_AHEAD = 3;

export const MaintainPartitionsPayloadSchema = z.object({ now: z.iso.datetime().optional() });

/**
 * Daily: create the coming months' event partitions before any event needs them, and drop months
 * past retention (a DROP TABLE, not a bloating DELETE). Idempotent: running it twice changes nothing.
 */
export const maintainPartitionsQueue = defineQueue({
  name: 'events.maintain-partitions',
  payload: MaintainPartitionsPayloadSchema,
  queue: { policy: 'singleton', retryLimit: 3, retryDelay: 60, retryBackoff: true, expireInSeconds: 600 },
  worker: { batchSize: 1, pollingIntervalSeconds: 30 },
  schedule: { cron: '17 3 * * *', payload: {} },
  async handle(payload, { services }) {
    const now = payload.now ? new Date(payload.now) : new Date();
    const created = await ensureEventPartitions(services.sql, MONTHS_CREATED_AHEAD);
    const cutoff = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - EVENT_RETENTION_MONTHS, 1));
    const expired = await partitionsBefore(services.sql, cutoff);
    for (const name of expired) await dropPartition(services.sql, name);
    let deleted = 0;
    for (let batch = await deleteDefaultPartitionRowsBefore(services.sql, cutoff); batch > 0; batch = await deleteDefaultPartitionRowsBefore(services.sql, cutoff)) deleted += batch;
    services.logger.info({ created, dropped: expired, deletedFromDefault: deleted }, 'event partitions maintained');
  },
});
