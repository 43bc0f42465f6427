import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import { measureSegment } from './measure-segment.ts';
import { allSegments, recordSegmentSize } from './queries.ts';

/** A nightly count may take its time, but one pathological rule must not hold the job forever. */
export const RECORD_SIZE_TIMEOUT_MS = 60_000;

export const RecordSegmentSizesPayloadSchema = z.object({
  /** The day the sizes are recorded for (default: today, UTC); tests and backfills pass one. */
  on: z.iso.date().optional(),
});

/**
 * Daily: counts every segment and stores today's size, so `/nurture segment list` can show the change
 * since last week. Idempotent per day (one row per segment and day, overwritten by a rerun).
 */
export const recordSegmentSizesQueue = defineQueue({
  name: 'segments.record-sizes',
  payload: RecordSegmentSizesPayloadSchema,
  queue: { policy: 'singleton', retryLimit: 3, retryDelay: 300, retryBackoff: true, expireInSeconds: 3600 },
  worker: { batchSize: 1, pollingIntervalSeconds: 30 },
  schedule: { cron: '41 2 * * *', payload: {} },
  handle: (payload, { services }) => recordSegmentSizes(services, payload.on ?? new Date().toISOString().slice(0, 10)),
});

export async function recordSegmentSizes(services: Services, measuredOn: string): Promise<void> {
  const log = services.logger.child({ job: 'segments.record-sizes', measuredOn });
  const segments = await allSegments(services.sql);
  let recorded = 0;
  const tooSlow: number[] = [];
  for (const segment of segments) {
    const size = await measureSegment(services, segment, RECORD_SIZE_TIMEOUT_MS);
    if (size === undefined) {
      tooSlow.push(segment.id);
      continue;
    }
    await recordSegmentSize(services.sql, { teamId: segment.team_id, id: segment.id }, measuredOn, size);
    recorded += 1;
  }
  // A rule too slow to count is not a transient failure: retrying would only repeat it.
  if (tooSlow.length > 0) log.warn({ segmentIds: tooSlow }, 'some segments were too slow to count; no size recorded for them today');
  log.info({ recorded, segments: segments.length }, 'segment sizes recorded');
}
