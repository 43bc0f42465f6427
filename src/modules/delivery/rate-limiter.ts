import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from '../../db/client.ts';
import type { RateLimitInfo } from './email-transport.ts';
import { holdRateLimiter, reserveRateSlot } from './queries.ts';

/**
 * Spend the configured rate with a little headroom: slots are spaced exactly, but requests reach the
 * provider a millisecond or two later or earlier, and its sliding window counts arrivals.
 */
const HEADROOM = 0.96;

/**
 * A request-rate limiter shared by every process through one row in Postgres: each request reserves the
 * next slot, 1/rate after the one before, and sleeps until it (one round trip, no polling, no bursts that
 * would trip the provider's window). It follows what the provider says: `ratelimit-limit` lowers our rate
 * when it is below it, and a 429's `retry-after` holds every process back that long. With requests spaced
 * 1/limit apart, `ratelimit-remaining: 0` is the steady state at full speed, not a reason to stop.
 */
export class RateLimiter {
  readonly #sql: Sql;
  readonly #name: string;
  #perSecond: number;

  constructor(sql: Sql, options: { name: string; requestsPerSecond: number }) {
    this.#sql = sql;
    this.#name = options.name;
    this.#perSecond = options.requestsPerSecond * HEADROOM;
  }

  /** Waits for this request's slot; rejects with the signal's reason when aborted while waiting. */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const waitSeconds = await reserveRateSlot(this.#sql, this.#name, 1 / this.#perSecond);
    if (waitSeconds > 0) await sleep(Math.round(waitSeconds * 1000), undefined, signal ? { signal } : undefined);
  }

  /** Takes in what the provider said about its budget after a call. */
  observe(rateLimit: RateLimitInfo | undefined): void {
    if (rateLimit?.limit !== undefined && rateLimit.limit > 0) this.#perSecond = Math.min(this.#perSecond, rateLimit.limit * HEADROOM);
  }

  /** The provider refused a request for its rate: nobody calls it again for `seconds`. */
  async holdOff(seconds: number): Promise<void> {
    await holdRateLimiter(this.#sql, this.#name, seconds);
  }
}
