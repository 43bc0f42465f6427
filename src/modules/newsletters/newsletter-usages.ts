import type { SegmentUsageFinder } from '../segments/segment-usages.ts';
import { ACTIVE_STATUSES } from './newsletter.ts';
import { newslettersOfSegment } from './queries.ts';

/** Enough to say why; a segment used by many newsletters is not listed in full. */
const USAGES_NAMED = 10;

/**
 * Newsletters that sent or may send to a segment. One not finished (awaiting approval, scheduled,
 * sending, paused) blocks deleting it: it would reach different people, or nobody. A finished one does
 * not: it keeps the segment's name in its plan (segment_id becomes NULL).
 */
export const findNewsletterUsages: SegmentUsageFinder = async (sql, teamId, segmentId) =>
  (await newslettersOfSegment(sql, teamId, segmentId, USAGES_NAMED)).map((newsletter) => ({
    kind: 'newsletter',
    name: `#${newsletter.id} ${newsletter.template_name} (${newsletter.status.replace('_', ' ')})`,
    blocksDelete: (ACTIVE_STATUSES as readonly string[]).includes(newsletter.status),
  }));
