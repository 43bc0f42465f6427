import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import { pullRunsToDeferredRows } from './run-queries.ts';
import { tickSequences } from './tick-sequences.ts';

export const TickSequencesPayloadSchema = z.union([
  /** Some of a sequence's emails were deferred by the frequency cap: their runs become due at their time. */
  z.object({ deferred: z.object({ teamId: z.string().min(1), sequenceId: z.number().int().positive() }) }).strict(),
  /** The tick: every minute, and at once when something became due now. */
  z.object({}).strict(),
]);
export type TickSequencesPayload = z.infer<typeof TickSequencesPayloadSchema>;

/**
 * The scheduler (tick-sequences.ts). `stately`: one tick waits while one runs, so a burst of "something
 * is due now" requests costs one tick, and ticks of two processes never queue up behind each other (they
 * would be safe together: runs are claimed with SKIP LOCKED). Deferred-row notices are keyed per
 * sequence and wait two seconds, so the chunks of one send settling together cost one job.
 */
export const tickSequencesQueue = defineQueue({
  name: 'sequences.tick',
  payload: TickSequencesPayloadSchema,
  queue: { policy: 'stately', notify: true, retryLimit: 3, retryDelay: 10, retryBackoff: true, expireInSeconds: 600, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 1, localConcurrency: 2, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 5 },
  schedule: { cron: '* * * * *', payload: {} },
  handle: async (payload, { services }) => {
    if ('deferred' in payload) await pullRunsToDeferredRows(services.sql, payload.deferred.teamId, payload.deferred.sequenceId);
    else await tickSequences(services);
  },
});

/** Asks for a tick now (a no-op when one is already waiting); the minute's tick would come anyway. */
export async function requestTick(services: Services): Promise<void> {
  await services.enqueue(tickSequencesQueue, {}).catch((error) => services.logger.warn({ err: error }, 'could not ask for a sequence tick; the next minute’s tick will do'));
}

/** The frequency cap deferred emails of the sequence: their runs are brought forward to when those may go. */
export async function requestDeferredPull(services: Services, teamId: string, sequenceId: number): Promise<void> {
  await services.enqueue(tickSequencesQueue, { deferred: { teamId, sequenceId } }, { singletonKey: `deferred:${teamId}:${sequenceId}`, startAfter: 2 });
}
