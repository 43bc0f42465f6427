import type { SegmentUsageFinder } from '../segments/segment-usages.ts';
import { sequencesOfSegment } from './queries.ts';

/** Enough to say why; a segment that enrolls into many sequences is not listed in full. */
const USAGES_NAMED = 10;

/**
 * Sequences that enroll leads as they enter the segment. One not archived blocks deleting it: a draft or
 * paused sequence would otherwise wake up to a segment that is gone. An archived one does not (its
 * trigger_segment_id becomes NULL; the trigger keeps the old id and says the segment is gone).
 */
export const findSequenceUsages: SegmentUsageFinder = async (sql, teamId, segmentId) =>
  (await sequencesOfSegment(sql, teamId, segmentId, USAGES_NAMED)).map((sequence) => ({
    kind: 'sequence',
    name: `${sequence.name} (${sequence.status})`,
    blocksDelete: sequence.status !== 'archived',
  }));
