import type { Services } from '../../services.ts';
import { countAudience, type SegmentRow } from './queries.ts';
import { purposeOf, ruleContext } from './segments.ts';

/** Postgres cancelled the statement because of statement_timeout. */
export const isStatementTimeout = (error: unknown) => (error as { code?: string } | null)?.code === '57014';

/**
 * A segment's size now, counted under a statement timeout; undefined when the count took longer
 * (a person waiting for `segment list` gets the other sizes rather than nothing).
 */
export async function measureSegment(services: Services, segment: SegmentRow, timeoutMs: number, now = new Date()): Promise<number | undefined> {
  try {
    return await services.sql.begin(async (tx) => {
      await tx`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`;
      return countAudience(tx, segment.rule, ruleContext(segment.team_id, now), { purpose: purposeOf(segment) });
    });
  } catch (error) {
    if (isStatementTimeout(error)) return undefined;
    throw error;
  }
}

/** Runs `task` over `items` with at most `limit` at a time (counts share the connection pool). */
export async function mapWithLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
