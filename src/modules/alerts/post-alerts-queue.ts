import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import { postChannelAlerts } from './post-alerts.ts';

export const PostAlertsPayloadSchema = z.object({ teamId: z.string().min(1), channelId: z.string().regex(/^[CG][A-Z0-9]+$/) }).strict();

/**
 * Posting a channel's waiting alerts (post-alerts.ts). `stately` per channel (singletonKey): one job runs
 * and one waits, so a burst of alerts for a channel costs one waiting job, which reads everything waiting
 * when it runs. `notify`: a worker picks it up within milliseconds, so the rep sees the alert while the
 * lead is still on the site. Slack errors throw and are retried; the alerts stay waiting meanwhile.
 */
export const postAlertsQueue = defineQueue({
  name: 'alerts.post',
  payload: PostAlertsPayloadSchema,
  queue: { policy: 'stately', notify: true, retryLimit: 10, retryDelay: 2, retryBackoff: true, expireInSeconds: 120, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 1, localConcurrency: 2, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 5 },
  handle: async ({ teamId, channelId }, { services }) => {
    const outcome = await postChannelAlerts(services, teamId, channelId);
    if (outcome.kind === 'later') await requestAlertPosts(services, teamId, [channelId], outcome.at);
  },
});

/** Asks for the channels' waiting alerts to be posted (now, or at `at` real time). */
export async function requestAlertPosts(services: Services, teamId: string, channelIds: Iterable<string>, at?: Date): Promise<void> {
  for (const channelId of new Set(channelIds)) {
    await services.enqueue(postAlertsQueue, { teamId, channelId }, { singletonKey: `${teamId}:${channelId}`, ...(at ? { startAfter: at } : {}) });
  }
}
