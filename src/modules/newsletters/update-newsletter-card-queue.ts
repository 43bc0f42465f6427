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

/** When the card update this process queued last will start, per newsletter. */
const queuedUpdateStarts = new Map<string, number>();
/** An update starting sooner than this may already be reading: ask again rather than rely on it. */
const START_MARGIN_MS = 500;

/**
 * Asks for the card to be brought up to date within ~2 s (a no-op when an update is already waiting).
 * While an update this process queued has not started yet, it will read the newsletter as it is by
 * then, so asking again is skipped without a database round trip: chunks settle up to 100 times a second.
 */
export async function requestCardUpdate(services: Services, teamId: string, newsletterId: number): Promise<void> {
  const key = `${teamId}:${newsletterId}`;
  const now = Date.now();
  if ((queuedUpdateStarts.get(key) ?? 0) > now + START_MARGIN_MS) return;
  const jobId = await services.enqueue(updateNewsletterCardQueue, { teamId, newsletterId }, { singletonKey: key, startAfter: CARD_UPDATE_INTERVAL_SECONDS });
  if (jobId) queuedUpdateStarts.set(key, now + CARD_UPDATE_INTERVAL_SECONDS * 1000);
  else queuedUpdateStarts.delete(key);
  if (queuedUpdateStarts.size > 1000) for (const [stale, startsAt] of queuedUpdateStarts) if (startsAt < now) queuedUpdateStarts.delete(stale);
}
