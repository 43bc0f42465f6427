import type { Clock } from '../../src/lib/clock.ts';

/** A clock that only moves when the test says so: `set` an instant, or `advance` by minutes, hours, days. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: Date | string) {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  set(instant: Date | string): void {
    this.#now = new Date(instant).getTime();
  }

  advance(by: { minutes?: number; hours?: number; days?: number }): Date {
    this.#now += ((by.days ?? 0) * 24 * 60 + (by.hours ?? 0) * 60 + (by.minutes ?? 0)) * 60_000;
    return this.now();
  }
}
