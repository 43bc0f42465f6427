import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { handleWatchedEvents } from './react-to-events.ts';

export const ReactToEventsPayloadSchema = z.object({
  teamId: z.string().min(1),
  events: z
    .array(
      z.object({
        leadId: z.number().int().positive(),
        name: z.string().min(1).max(64),
        properties: z.record(z.string(), z.unknown()),
        occurredAt: z.string().min(1),
      }),
    )
    .min(1)
    // One API batch at most (record-events.ts MAX_EVENTS_PER_BATCH; not imported: that module imports this one's hook).
    .max(1000),
});

/**
 * Events from the API that start or end sequence runs (react-to-events.ts), off the ingest path. Picked
 * up at once (notify): a download's thank-you step without delay goes out within seconds.
 */
export const reactToEventsQueue = defineQueue({
  name: 'sequences.react-to-events',
  payload: ReactToEventsPayloadSchema,
  queue: { notify: true, retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 300, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 4, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 5 },
  handle: async ({ teamId, events }, { services }) => {
    await handleWatchedEvents(services, teamId, events);
  },
});
