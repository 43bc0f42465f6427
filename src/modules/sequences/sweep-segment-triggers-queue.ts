import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { sweepSegmentTriggers } from './sweep-segment-triggers.ts';

export const SweepSegmentTriggersPayloadSchema = z.object({
  /** One sequence only; omitted: every active segment-triggered sequence, then the exit pass. */
  only: z.object({ teamId: z.string().min(1), sequenceId: z.number().int().positive() }).optional(),
});

/**
 * Segment-entry enrollment and the exit pass (sweep-segment-triggers.ts), every five minutes. A sweep
 * may take seconds on a large workspace: `singleton` keeps two from running at once.
 */
export const sweepSegmentTriggersQueue = defineQueue({
  name: 'sequences.sweep-segments',
  payload: SweepSegmentTriggersPayloadSchema,
  queue: { policy: 'singleton', retryLimit: 2, retryDelay: 60, expireInSeconds: 1800, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 1, pollingIntervalSeconds: 5 },
  schedule: { cron: '*/5 * * * *', payload: {} },
  handle: async (payload, { services }) => {
    await sweepSegmentTriggers(services, payload.only);
  },
});

