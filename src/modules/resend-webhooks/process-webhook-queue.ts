import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { processWebhook } from './process-webhook.ts';

export const ProcessWebhookPayloadSchema = z.object({ svixId: z.string().min(1).max(200) });
export type ProcessWebhookPayload = z.infer<typeof ProcessWebhookPayloadSchema>;

/**
 * One stored Resend webhook → the ledger row, the lead and the event log. A newsletter brings a burst of
 * them (a delivery, opens and clicks per recipient): NOTIFY for prompt pickup and burst to drain it.
 * Retries with backoff (3 s, 6 s, 12 s … capped at 10 min) ride out database hiccups.
 */
export const processWebhookQueue = defineQueue({
  name: 'delivery.process-webhook',
  payload: ProcessWebhookPayloadSchema,
  queue: { notify: true, retryLimit: 10, retryDelay: 3, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 60, retentionSeconds: 2 * 24 * 3600 },
  worker: { batchSize: 20, burstWhenBatchFull: true, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 },
  handle: async (payload, { services }) => {
    await processWebhook(services, payload.svixId);
  },
});
