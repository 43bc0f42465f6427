import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import { finishNewsletterIfDone } from './finish-newsletter.ts';
import { refreshNewsletterCard } from './newsletter-card.ts';

export const UpdateNewsletterCardPayloadSchema = z.object({
  teamId: z.string().min(1),
  newsletterId: z.number().int().positive(),
});

/** Slack takes about one message update per second per channel; chunks settle up to 100 times a second. */
export const CARD_UPDATE_INTERVAL_SECONDS = 2;

/**
 * Progress on the send plan card, at most one update per newsletter every ~2 s however fast its chunks
 * settle: `stately` keeps one job waiting and one running per newsletter, and a job waits 2 s before it
 * runs, so every settle in between is answered by the job already waiting, which reads the newsletter
 * when it runs. Finishing the send happens here too (it reads the whole ledger of the send; see finishIfDone).
 */
export const updateNewsletterCardQueue = defineQueue({
  name: 'newsletters.update-card',
  payload: UpdateNewsletterCardPayloadSchema,
  queue: { policy: 'stately', retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 120, retentionSeconds: 3600 },
  worker: { batchSize: 4, pollingIntervalSeconds: 1 },
  handle: async ({ teamId, newsletterId }, { services }) => {
    await finishNewsletterIfDone(services, teamId, newsletterId);
    await refreshNewsletterCard(services, teamId, newsletterId);
  },
});

/** Asks for the card to be brought up to date within ~2 s (a no-op when an update is already waiting). */
export async function requestCardUpdate(services: Services, teamId: string, newsletterId: number): Promise<void> {
  await services.enqueue(updateNewsletterCardQueue, { teamId, newsletterId }, { singletonKey: `${teamId}:${newsletterId}`, startAfter: CARD_UPDATE_INTERVAL_SECONDS });
}
