import type { BatchOutcome, EmailTransport, OutgoingEmail, SendBatchOptions } from './email-transport.ts';
import type { RateLimiter } from './rate-limiter.ts';

/**
 * Puts every batch call of a transport behind the shared rate limiter, whoever makes it (send chunks, test
 * sends), and feeds the provider's rate answers back into the limiter.
 */
export class RateLimitedTransport implements EmailTransport {
  readonly name: string;
  readonly #inner: EmailTransport;
  readonly #limiter: RateLimiter;

  constructor(inner: EmailTransport, limiter: RateLimiter) {
    this.name = inner.name;
    this.#inner = inner;
    this.#limiter = limiter;
  }

  async sendBatch(emails: readonly OutgoingEmail[], options: SendBatchOptions): Promise<BatchOutcome> {
    try {
      await this.#limiter.acquire(options.signal);
    } catch (error) {
      if (options.signal?.aborted) return { kind: 'transient', reason: 'aborted', message: 'aborted while waiting for a request slot; nothing was sent' };
      throw error;
    }
    const outcome = await this.#inner.sendBatch(emails, options);
    if (outcome.kind === 'accepted') this.#limiter.observe(outcome.rateLimit);
    if (outcome.kind === 'rate-limited') {
      this.#limiter.observe(outcome.rateLimit);
      await this.#limiter.holdOff(outcome.retryAfterSeconds);
    }
    return outcome;
  }
}
