import type { Queryable } from '../../db/client.ts';
import { findNewsletterUsages } from '../newsletters/newsletter-usages.ts';
import { findSequenceUsages } from '../sequences/sequence-usages.ts';

export interface SegmentUsage {
  /** e.g. "sequence", "newsletter". */
  kind: string;
  name: string;
  /** Whether the use blocks deleting the segment (an active sequence, a scheduled newsletter). */
  blocksDelete: boolean;
}

export type SegmentUsageFinder = (sql: Queryable, teamId: string, segmentId: number) => Promise<SegmentUsage[]>;

/**
 * Features that send to segments register a finder here (sequences, newsletters), so `segment show`
 * can say where a segment is used and `segment delete` can refuse while an active one depends on it.
 */
export const SEGMENT_USAGE_FINDERS: SegmentUsageFinder[] = [findNewsletterUsages, findSequenceUsages];

export async function segmentUsages(sql: Queryable, teamId: string, segmentId: number): Promise<SegmentUsage[]> {
  const found = await Promise.all(SEGMENT_USAGE_FINDERS.map((find) => find(sql, teamId, segmentId)));
  return found.flat();
}
