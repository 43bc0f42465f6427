import type { SegmentUsageFinder } from '../segments/segment-usages.ts';
import { newslettersOfSegment } from './queries.ts';

/** Enough to say why; a segment used by many newsletters is not listed in full. */
const USAGES_NAMED = 10;

/**
 * Newsletters that sent or may send to a segment. Every one of them blocks deleting it: an active one
 * would reach different people, and the schema keeps a sent newsletter's segment (segment_id is
 * ON DELETE RESTRICT), so the database would refuse anyway; this refuses first, naming them.
 */
export const findNewsletterUsages: SegmentUsageFinder = async (sql, teamId, segmentId) =>
  (await newslettersOfSegment(sql, teamId, segmentId, USAGES_NAMED)).map((newsletter) => ({
    kind: 'newsletter',
    name: `#${newsletter.id} ${newsletter.template_name} (${newsletter.status.replace('_', ' ')})`,
    blocksDelete: true,
  }));
