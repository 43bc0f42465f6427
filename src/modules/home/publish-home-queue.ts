import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { publishHome } from './publish-home.ts';

export const PublishHomePayloadSchema = z.object({ teamId: z.string().min(1), userId: z.string().min(1) });
export type PublishHomePayload = z.infer<typeof PublishHomePayloadSchema>;

/**
 * Re-renders a person's App Home (on opening it, and when their roles change). Someone is looking
 * at the screen: NOTIFY for ~ms pickup, and burst so a backlog (a bulk role change) drains at once.
 */
export const publishHomeQueue = defineQueue({
  name: 'slack.publish-home',
  payload: PublishHomePayloadSchema,
  queue: { notify: true, retryLimit: 5, retryDelay: 2, retryBackoff: true, expireInSeconds: 60, retentionSeconds: 3600 },
  worker: { batchSize: 10, burstWhenBatchFull: true, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 10 },
  handle: (payload, { services }) => publishHome(services, payload.teamId, payload.userId),
});
