import { describe, expect, it } from 'vitest';
import { changeSinceLastWeek, segmentListMessage, type ListedSegment } from '../../src/modules/segments/build-segment-messages.ts';
import type { SegmentRow } from '../../src/modules/segments/queries.ts';
import { checkMessage, LIMITS } from '../support/block-kit-limits.ts';

const segment = (i: number): SegmentRow => ({
  id: i,
  team_id: 'T1',
  name: `Segment ${i} ${'n'.repeat(60)}`,
  description: i % 2 === 0 ? `Description <!channel> ${'d'.repeat(400)}` : null,
  rule: { type: 'all', rules: [] },
  include_suppressed: i % 3 === 0,
  created_by: 'U0MAKER',
  created_at: new Date(),
  updated_by: 'U0MAKER',
  updated_at: new Date(),
});

describe('segment list replies', () => {
  it('stay within Slack’s 50 blocks however many segments there are, and say how many were left out', () => {
    for (const count of [1, 30, 400, 2000]) {
      const listed: ListedSegment[] = Array.from({ length: count }, (_, i) => ({ segment: segment(i), size: i * 10, sizeWeekAgo: i % 4 === 0 ? null : i * 9 }));
      const message = segmentListMessage(listed);
      expect(checkMessage(message)).toBeNull();
      expect(message.blocks!.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
      // Descriptions are the person's words: shown as text, never as a ping.
      expect(JSON.stringify(message.blocks)).not.toContain('<!channel>');
      if (count === 2000) expect(JSON.stringify(message.blocks!.at(-1))).toMatch(/…and [\d,]+ more/);
    }
  });

  it('describe the change since last week', () => {
    expect(changeSinceLastWeek(120, null)).toBe('new');
    expect(changeSinceLastWeek(120, 100)).toBe('+20 since last week');
    expect(changeSinceLastWeek(1000, 2500)).toBe('−1,500 since last week');
    expect(changeSinceLastWeek(7, 7)).toBe('no change since last week');
    expect(changeSinceLastWeek(undefined, 7)).toBe('7 leads a week ago');
  });
});
