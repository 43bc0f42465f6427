import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { startDueNewsletters, startNewsletter } from './start-newsletter.ts';

export const StartNewsletterPayloadSchema = z.union([
  /** One approved newsletter, at its time. */
  z.object({ teamId: z.string().min(1), newsletterId: z.number().int().positive() }),
  /** Every minute: approved newsletters whose own job was lost (it could not be queued after approval). */
  z.object({ overdue: z.literal(true) }),
]);

/**
 * Starts an approved newsletter at its time (startAfter = send_at): writes its ledger rows and queues
 * its chunks, or expires it when it is too late. Idempotent: only a `scheduled` newsletter starts, and a
 * retry finding it `sending` queues its pending chunks again (the process may have died before it did).
 * Delayed jobs are picked up by polling, hence a short notify poll: a newsletter starts within seconds.
 */
export const startNewsletterQueue = defineQueue({
  name: 'newsletters.start',
  payload: StartNewsletterPayloadSchema,
  queue: { notify: true, retryLimit: 5, retryDelay: 10, retryBackoff: true, expireInSeconds: 600, retentionSeconds: 7 * 24 * 3600 },
  worker: { batchSize: 1, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 5 },
  schedule: { cron: '* * * * *', payload: { overdue: true } },
  handle: (payload, { services }) => ('overdue' in payload ? startDueNewsletters(services) : startNewsletter(services, payload)),
});
