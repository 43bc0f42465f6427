import { Resend, type CreateBatchOptions } from 'resend';
import { checkBatch, type BatchItemResult, type BatchOutcome, type EmailTransport, type OutgoingEmail, type RateLimitInfo, type SendBatchOptions } from './email-transport.ts';

export interface ResendTransportOptions {
  apiKey: string;
  /** Another Resend API endpoint (tests: the fake in tests/support), without a trailing slash. */
  baseUrl?: string;
  /** Give up waiting after this long (default 30 s); the outcome is then `transient`. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** When a 429 names no wait: Resend's windows are one second. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** When a used-up quota names no wait: check again in an hour rather than hammering Resend. */
const DEFAULT_QUOTA_RETRY_AFTER_SECONDS = 3600;

/**
 * Sends through Resend's batch endpoint with the real SDK. The SDK never throws for HTTP errors and never
 * retries; it resolves to `{ data, error, headers }`, which is mapped here to what the pipeline must do.
 */
export class ResendTransport implements EmailTransport {
  readonly name = 'resend';
  readonly #resend: Resend;
  readonly #timeoutMs: number;

  constructor(options: ResendTransportOptions) {
    // baseUrl undefined: the SDK uses RESEND_BASE_URL or Resend's own API.
    this.#resend = new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : undefined);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async sendBatch(emails: readonly OutgoingEmail[], options: SendBatchOptions): Promise<BatchOutcome> {
    checkBatch(emails, options);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    // Fields listed one by one: batch sends take neither attachments nor scheduledAt (the SDK's types allow the latter).
    const payload: CreateBatchOptions = emails.map((email) => ({
      from: email.from,
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
      ...(email.replyTo ? { replyTo: email.replyTo } : {}),
      ...(email.headers ? { headers: email.headers } : {}),
      ...(email.tags ? { tags: [...email.tags] } : {}),
    }));

    let response;
    try {
      // Permissive: an invalid address fails that one email, not the other 99.
      response = await this.#resend.batch.send(payload, { batchValidation: 'permissive', idempotencyKey: options.idempotencyKey, signal });
    } catch (error) {
      // The SDK rethrows an abort that lands while it reads an error body; anything else thrown is a network failure too.
      return unknownFate(options.signal, timeout, (error as Error)?.message ?? String(error));
    }
    const { data, error, headers } = response;
    if (error === null) {
      const outcome = accepted(emails.length, data);
      const rateLimit = readRateLimit(headers ?? {});
      return outcome.kind === 'accepted' && Object.keys(rateLimit).length > 0 ? { ...outcome, rateLimit } : outcome;
    }
    return mapError(error, headers ?? {}, options.signal, timeout);
  }
}

function accepted(count: number, data: { data: Array<{ id: string }>; errors?: Array<{ index: number; message: string }> }): BatchOutcome {
  // Resend lists the ids of the accepted emails in request order and the refused ones by index.
  const refused = new Map((data.errors ?? []).map((entry) => [entry.index, entry.message]));
  const ids = data.data.map((entry) => entry.id);
  if (ids.length + refused.size !== count || [...refused.keys()].some((index) => index < 0 || index >= count)) {
    return {
      kind: 'permanent',
      code: 'unexpected_response',
      status: 200,
      message: `Resend answered ${ids.length} id(s) and ${refused.size} error(s) for ${count} email(s); the emails cannot be matched to the answer`,
    };
  }
  const items: BatchItemResult[] = [];
  let next = 0;
  for (let index = 0; index < count; index++) {
    const error = refused.get(index);
    items.push(error === undefined ? { ok: true, id: ids[next++]! } : { ok: false, error });
  }
  return { kind: 'accepted', items };
}

interface ResendErrorBody {
  name: string;
  message: string;
  statusCode: number | null;
}

function mapError(error: ResendErrorBody, headers: Record<string, string>, callerSignal: AbortSignal | undefined, timeout: AbortSignal): BatchOutcome {
  const status = error.statusCode ?? undefined;
  const message = error.message;
  // No status: the SDK could not get an answer (connection refused or dropped, DNS, our abort or timeout).
  if (status === undefined) return unknownFate(callerSignal, timeout, message);
  if (status === 429) {
    const rateLimit = readRateLimit(headers);
    const quota = error.name === 'daily_quota_exceeded' ? 'daily' : error.name === 'monthly_quota_exceeded' ? 'monthly' : undefined;
    const retryAfterSeconds = readRetryAfter(headers['retry-after']) ?? rateLimit.resetSeconds ?? (quota ? DEFAULT_QUOTA_RETRY_AFTER_SECONDS : DEFAULT_RETRY_AFTER_SECONDS);
    return quota ? { kind: 'rate-limited', retryAfterSeconds, rateLimit, quota, message } : { kind: 'rate-limited', retryAfterSeconds, rateLimit, message };
  }
  // Another request with this key is still being processed: its answer will be replayed to a later retry.
  if (error.name === 'concurrent_idempotent_requests') return { kind: 'transient', reason: 'concurrent-request', status, message };
  if (status >= 500 || status === 408) return { kind: 'transient', reason: 'server-error', status, message };
  // 400/401/403/404/422, and 409 invalid_idempotent_request: the same key with another batch, which means
  // the caller derived the key wrongly; retrying cannot fix it.
  return { kind: 'permanent', code: error.name, status, message };
}

function unknownFate(callerSignal: AbortSignal | undefined, timeout: AbortSignal, detail: string): BatchOutcome {
  if (callerSignal?.aborted) return { kind: 'transient', reason: 'aborted', message: 'the call was aborted before Resend answered; the emails may or may not have been sent' };
  if (timeout.aborted) return { kind: 'transient', reason: 'timeout', message: 'Resend did not answer in time; the emails may or may not have been sent' };
  return { kind: 'transient', reason: 'network', message: detail };
}

function readRateLimit(headers: Record<string, string>): RateLimitInfo {
  const info: RateLimitInfo = {};
  const limit = readNumber(headers['ratelimit-limit']);
  const remaining = readNumber(headers['ratelimit-remaining']);
  const reset = readNumber(headers['ratelimit-reset']);
  if (limit !== undefined) info.limit = limit;
  if (remaining !== undefined) info.remaining = remaining;
  if (reset !== undefined) info.resetSeconds = reset;
  return info;
}

/** A non-negative number from a header; anything else is ignored. */
function readNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

/** Retry-After is seconds or an HTTP date (RFC 9110). */
function readRetryAfter(value: string | undefined): number | undefined {
  const seconds = readNumber(value);
  if (seconds !== undefined || value === undefined) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
