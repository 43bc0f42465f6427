import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { deleteWebhooksBefore } from './queries.ts';

/** Long past Resend's day of retries, and enough to look into a delivery question from last month. */
export const WEBHOOK_RETENTION_DAYS = 30;
const DELETE_BATCH = 5000;

export const PruneWebhooksPayloadSchema = z.object({ now: z.iso.datetime().optional() });

/** Daily: forgets Resend webhooks older than WEBHOOK_RETENTION_DAYS (their effects stay in the ledger and the events). */
export const pruneWebhooksQueue = defineQueue({
  name: 'delivery.prune-webhooks',
  payload: PruneWebhooksPayloadSchema,
  queue: { policy: 'singleton', retryLimit: 3, retryDelay: 300, retryBackoff: true, expireInSeconds: 1800 },
  worker: { batchSize: 1, pollingIntervalSeconds: 30 },
  schedule: { cron: '53 3 * * *', payload: {} },
  async handle(payload, { services }) {
    const now = payload.now ? new Date(payload.now) : new Date();
    const cutoff = new Date(now.getTime() - WEBHOOK_RETENTION_DAYS * 86_400_000);
    let deleted = 0;
    for (let batch = await deleteWebhooksBefore(services.sql, cutoff, DELETE_BATCH); batch > 0; batch = await deleteWebhooksBefore(services.sql, cutoff, DELETE_BATCH)) deleted += batch;
    services.logger.info({ deleted, cutoff: cutoff.toISOString() }, 'resend webhooks pruned');
  },
});
