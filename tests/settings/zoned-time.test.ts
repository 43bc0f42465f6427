import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, formatInZone, wallTimeAt, wallTimeToInstant } from '../../src/modules/settings/zoned-time.ts';

const instant = (date: string, time: string, zone: string) => {
  const result = wallTimeToInstant({ date, time }, zone);
  return result.ok ? result.instant.toISOString() : result.reason;
};

describe('wall times in a time zone', () => {
  it('converts ordinary times with the zone’s offset that day', () => {
    expect(instant('2026-06-01', '09:00', 'Asia/Tokyo')).toBe('2026-06-01T00:00:00.000Z');
    expect(instant('2026-01-15', '09:00', 'America/New_York')).toBe('2026-01-15T14:00:00.000Z');
    expect(instant('2026-07-15', '09:00', 'America/New_York')).toBe('2026-07-15T13:00:00.000Z');
    expect(instant('2026-12-31', '23:59', 'UTC')).toBe('2026-12-31T23:59:00.000Z');
  });

  it('refuses a time the clocks skip (spring forward) and takes the first of a time shown twice (fall back)', () => {
    expect(instant('2026-03-08', '02:30', 'America/New_York')).toBe('skipped');
    expect(instant('2026-03-08', '03:00', 'America/New_York')).toBe('2026-03-08T07:00:00.000Z');
    expect(instant('2026-03-29', '02:30', 'Europe/Berlin')).toBe('skipped');
    expect(instant('2026-11-01', '01:30', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
    expect(instant('2026-10-25', '02:30', 'Europe/Berlin')).toBe('2026-10-25T00:30:00.000Z');
    // Lord Howe Island moves its clocks by half an hour.
    expect(instant('2026-10-04', '02:15', 'Australia/Lord_Howe')).toBe('skipped');
    expect(instant('2026-04-05', '01:45', 'Australia/Lord_Howe')).toBe('2026-04-04T14:45:00.000Z');
  });

  it('reads the clock back, formats in the zone, and knows zone names', () => {
    expect(wallTimeAt(new Date('2026-11-01T05:30:00Z'), 'America/New_York')).toEqual({ date: '2026-11-01', time: '01:30' });
    expect(formatInZone(new Date('2026-06-01T00:00:00Z'), 'Asia/Tokyo')).toBe('Mon, 1 Jun 2026, 09:00 (Asia/Tokyo)');
    expect(canonicalTimeZone('asia/tokyo')).toBe('Asia/Tokyo');
    expect(canonicalTimeZone('Mars/Olympus_Mons')).toBeUndefined();
  });
});
