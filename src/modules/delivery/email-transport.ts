/**
 * What the send pipeline needs from an email provider: one batch call of up to 100 emails, made safe to
 * repeat by an idempotency key, and an answer that says what to do next. Implementations: Resend
 * (resend-transport.ts) and the outbox table for trying Nurture without Resend (outbox-transport.ts).
 */
export interface EmailTransport {
  /** Short name for logs and the health of a send: `resend` or `outbox`. */
  readonly name: string;
  /** Never throws for provider or network failures: every way the call can end is a BatchOutcome. */
  sendBatch(emails: readonly OutgoingEmail[], options: SendBatchOptions): Promise<BatchOutcome>;
}

/** The most emails one batch call may carry (Resend's limit). */
export const MAX_BATCH_EMAILS = 100;

export interface SendBatchOptions {
  /** The workspace the emails are sent for (the outbox records it; one Resend account serves all). */
  teamId: string;
  /**
   * Derived from the batch's content in the send ledger: a retry of the same batch sends nothing twice.
   * Resend keeps it 24 hours and refuses it with a different batch (a bug: see `invalid_idempotent_request`).
   */
  idempotencyKey: string;
  /** Aborting gives up waiting; whether the emails went out is then unknown (a `transient` outcome). */
  signal?: AbortSignal;
}

/** One rendered email to one person. */
export interface OutgoingEmail {
  /** `Name <address>` on a domain verified in Resend. */
  from: string;
  /** One recipient: every email is addressed to one lead. */
  to: string;
  /** Where replies go when not to `from` (a sequence's or a rep's own address). */
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /** Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post. */
  headers?: Record<string, string>;
  /** Resend tags (ASCII letters, digits, _ and -), echoed in its webhooks. */
  tags?: ReadonlyArray<{ name: string; value: string }>;
}

export type BatchItemResult =
  | { ok: true; /** The provider's email id (Resend's id, later named in its webhooks). */ id: string }
  | { ok: false; /** Why this one email was refused (e.g. an invalid address); retrying will not help. */ error: string };

export interface RateLimitInfo {
  /** Requests allowed per window (`ratelimit-limit`). */
  limit?: number;
  /** Requests left in the current window (`ratelimit-remaining`). */
  remaining?: number;
  /** Seconds until the window resets (`ratelimit-reset`). */
  resetSeconds?: number;
}

export type BatchOutcome =
  /** The call was accepted; `items` line up with the emails sent, each sent or refused on its own. */
  | { kind: 'accepted'; items: BatchItemResult[]; /** What the provider said of its request budget, when it says. */ rateLimit?: RateLimitInfo }
  /**
   * Too many requests: nothing was sent; wait `retryAfterSeconds`, then retry the same batch with the same
   * key. `quota` is set when the daily or monthly sending quota is used up rather than the request rate:
   * waiting then takes hours, and the owner of the send should hear about it.
   */
  | { kind: 'rate-limited'; retryAfterSeconds: number; rateLimit: RateLimitInfo; quota?: 'daily' | 'monthly'; message: string }
  /**
   * It is unknown whether the emails went out (5xx, network failure, timeout, another request with this
   * key in flight): retry later with the same key, which makes the retry safe.
   */
  | { kind: 'transient'; reason: 'server-error' | 'network' | 'timeout' | 'aborted' | 'concurrent-request'; status?: number; message: string }
  /**
   * The whole call was refused and repeating it will not help: a bad API key, an unverified sender
   * domain, an invalid request, or the same idempotency key with a different batch (a bug on our side).
   */
  | { kind: 'permanent'; code: string; status?: number; message: string };

/** Arguments no transport can send: a programming error, so it throws rather than returning an outcome. */
export function checkBatch(emails: readonly OutgoingEmail[], options: SendBatchOptions): void {
  if (emails.length === 0) throw new RangeError('sendBatch needs at least one email');
  if (emails.length > MAX_BATCH_EMAILS) throw new RangeError(`sendBatch takes at most ${MAX_BATCH_EMAILS} emails per call; split the batch (got ${emails.length})`);
  if (!options.idempotencyKey || options.idempotencyKey.length > 256) throw new RangeError('sendBatch needs an idempotency key of 1 to 256 characters');
}
