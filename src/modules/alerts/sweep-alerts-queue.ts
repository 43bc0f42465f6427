import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { requestAlertPosts } from './post-alerts-queue.ts';
import { sweepAlerts } from './sweep-alerts.ts';

/** The minute's sweep (sweep-alerts.ts): quiet hours and snoozes ending, reminders. One at a time. */
export const sweepAlertsQueue = defineQueue({
  name: 'alerts.sweep',
  payload: z.object({}).strict(),
  queue: { policy: 'stately', retryLimit: 3, retryDelay: 10, retryBackoff: true, expireInSeconds: 300, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 1, pollingIntervalSeconds: 2 },
  schedule: { cron: '* * * * *', payload: {} },
  handle: async (_payload, { services }) => {
    for (const { teamId, channelId } of await sweepAlerts(services)) await requestAlertPosts(services, teamId, [channelId]);
  },
});
