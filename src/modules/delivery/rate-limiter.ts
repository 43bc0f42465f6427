import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from '../../db/client.ts';
import { ensureRateLimiter, holdRateLimiter, takeRateToken } from './queries.ts';
import type { RateLimitInfo } from './email-transport.ts';

/**
 * Spend the configured rate with a little headroom: requests are spaced evenly when granted, but reach
 * the provider a few milliseconds apart more or less, and its window counts arrivals.
 */
const HEADROOM = 0.97;
/** No bursts: a full bucket would let several processes fire together and trip a sliding window. */
const BURST = 1;

/**
 * A request-rate limiter shared by every process through one row in Postgres (a token bucket), so
 * workers added on other machines stay under the same provider limit. It follows what the provider says:
 * `ratelimit-limit` lowers the rate when it is below ours, `ratelimit-remaining: 0` empties the bucket,
 * and a 429's `retry-after` holds everyone back that long.
 */
export class RateLimiter {
  readonly #sql: Sql;
  readonly #name: string;
  #perSecond: number;
  #ready: Promise<void> | undefined;

  constructor(sql: Sql, options: { name: string; requestsPerSecond: number }) {
    this.#sql = sql;
    this.#name = options.name;
    this.#perSecond = options.requestsPerSecond * HEADROOM;
  }

  /** Waits for a request slot; rejects with the signal's reason when aborted while waiting. */
  async acquire(signal?: AbortSignal): Promise<void> {
    this.#ready ??= ensureRateLimiter(this.#sql, this.#name, BURST);
    await this.#ready;
    for (;;) {
      signal?.throwIfAborted();
      const { granted, waitSeconds } = await takeRateToken(this.#sql, this.#name, this.#perSecond, BURST);
      if (granted) return;
      // At least a millisecond, so a rounding error never spins.
      await sleep(Math.max(1, Math.ceil(waitSeconds * 1000)), undefined, signal ? { signal } : undefined);
    }
  }

  /** Takes in what the provider said about its budget after a call. */
  async observe(rateLimit: RateLimitInfo | undefined): Promise<void> {
    if (!rateLimit) return;
    if (rateLimit.limit !== undefined && rateLimit.limit > 0) this.#perSecond = Math.min(this.#perSecond, rateLimit.limit * HEADROOM);
    if (rateLimit.remaining === 0) await holdRateLimiter(this.#sql, this.#name, 0);
  }

  /** The provider refused a request for its rate: nobody calls it again for `seconds`. */
  async holdOff(seconds: number): Promise<void> {
    await holdRateLimiter(this.#sql, this.#name, seconds);
  }
}
