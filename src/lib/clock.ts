/**
 * Where "now" comes from for anything that schedules (sequence steps, send windows, frequency caps):
 * the system clock in the product, a clock the test moves in tests (tests/support/manual-clock.ts), so a
 * journey of weeks runs in seconds across time zones and DST changes.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
