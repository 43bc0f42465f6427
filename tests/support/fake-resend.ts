import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake Resend that speaks Resend's HTTP API for sending (POST /emails, POST /emails/batch), so the real
 * `resend` SDK runs against it unchanged. It refuses what Resend refuses, with Resend's error JSON
 * (`{ statusCode, name, message }`): bad or missing API keys, malformed fields, oversized batches, reused
 * idempotency keys, and (when switched on) a per-second rate limit with Resend's ratelimit headers.
 *
 *   const resend = await startFakeResend();
 *   const client = new Resend(resend.apiKey, { baseUrl: resend.url }); // or RESEND_BASE_URL, read at construction
 *   …
 *   await resend.waitForEmails((email) => email.to.includes('ann@example.com'));
 *   await resend.close();
 *
 * Faults: `failNext()` answers the next requests with an error, late, or not at all (connection dropped),
 * either instead of processing them or after processing them (Resend sent it, the answer got lost);
 * `pause()` holds every answer (the emails are recorded) until `resume()`.
 *
 * Kept fast for the benchmark: no per-request scans; with `keepBodies: false` only the html/text lengths
 * are kept.
 */

export interface FakeResendOptions {
  /** The keys Resend knows (default one key, `fake.apiKey`). Any other Bearer token gets 401. */
  apiKeys?: readonly string[];
  /** Off by default. Resend's default is 5 requests/s per team (older docs say 2), shared by all keys. */
  rateLimit?: RateLimit;
  /** Keep html and text of every email (default true); false keeps only their lengths. */
  keepBodies?: boolean;
  /** Recipient addresses Resend refuses as invalid (the whole request, or one item of a permissive batch). */
  rejectRecipients?: Iterable<string>;
  /** When set, `from` must use one of these domains, else 403 as Resend answers for an unverified domain. */
  verifiedDomains?: readonly string[];
  /** How long an Idempotency-Key is remembered; Resend keeps it 24 h. */
  idempotencyTtlMs?: number;
}

export interface RateLimit {
  /** Requests admitted in any sliding 1-second window, over all keys and endpoints. */
  requestsPerSecond: number;
}

export interface RecordedEmail {
  id: string;
  from: string;
  /** As sent (a string `to` becomes a one-element array). */
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  subject: string;
  /** Undefined when the fake was started with `keepBodies: false`. */
  html?: string;
  text?: string;
  htmlLength: number;
  textLength: number;
  headers?: Record<string, string>;
  tags?: Tag[];
  scheduledAt?: string;
  attachmentCount: number;
  idempotencyKey?: string;
  /** Shared by the emails of one accepted POST /emails/batch; undefined for POST /emails. */
  batchId?: string;
  /** Position in the batch request body. */
  batchIndex?: number;
  apiKey: string;
  receivedAt: Date;
}

export interface Tag {
  name: string;
  value: string;
}

export interface ResendError {
  statusCode: number;
  name: string;
  message: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  /** Resend's error name and message, when the answer was an error. */
  error?: ResendError;
  /** Per-item errors of a permissive batch. */
  itemErrors?: Array<{ index: number; message: string }>;
  /** Ids of the emails this request created (none for a replay or a refusal). */
  emailIds: string[];
  idempotencyKey?: string;
  /** For POST /emails/batch: the x-batch-validation header (the SDK always sends it; default strict). */
  batchValidation?: 'strict' | 'permissive';
  /** The stored answer to an earlier request with the same Idempotency-Key and body. */
  replayed: boolean;
  /** Answered by failNext() (the request may still have been processed, see afterProcessing). */
  injected: boolean;
  /** The Bearer token sent, if any. */
  apiKey?: string;
  at: Date;
}

export interface FailNextOptions {
  /** HTTP status of the injected error (default 500 unless only delayMs is given). */
  status?: number;
  /** Resend error name; defaults by status (500 application_error, 503 service_unavailable, 429 rate_limit_exceeded…). */
  name?: string;
  message?: string;
  /**
   * Wait this long before answering. Given alone (no status, no disconnect), the request is processed
   * normally after the wait, its Idempotency-Key in flight meanwhile: a slow Resend, for client timeouts.
   */
  delayMs?: number;
  /** Drop the connection instead of answering (the SDK sees a network failure). */
  disconnect?: boolean;
  /**
   * Process the request normally first (emails recorded, idempotent answer stored), then send the
   * injected answer instead of the real one: Resend sent the email but the caller never learned it.
   */
  afterProcessing?: boolean;
}

export interface WaitOptions {
  timeoutMs?: number;
}

export interface FakeResend {
  /** The base URL for the SDK (`baseUrl` option or RESEND_BASE_URL), without a trailing slash. */
  readonly url: string;
  /** The first accepted API key. */
  readonly apiKey: string;
  /** Every accepted email, in arrival order. */
  readonly emails: readonly RecordedEmail[];
  /** Every request, refused ones included, in the order they were decided. */
  readonly requests: readonly RecordedRequest[];
  /** How many 429s were answered (rate limiter and failNext alike). */
  readonly rateLimited: number;
  /** Answers held by pause(). */
  readonly held: number;
  /** Emails with this address in to, cc or bcc (case-insensitive; `Name <addr>` forms match on addr). */
  byRecipient(address: string): RecordedEmail[];
  emailById(id: string): RecordedEmail | undefined;
  /** Resolves with the first `count` emails once that many arrived. */
  waitForEmails(count: number, options?: WaitOptions): Promise<RecordedEmail[]>;
  /** Resolves with the matching emails once `count` (default 1) of them arrived. */
  waitForEmails(predicate: (email: RecordedEmail) => boolean, options?: WaitOptions & { count?: number }): Promise<RecordedEmail[]>;
  /** Resolves with the first request matching the predicate (refused ones included). */
  waitForRequest(predicate: (request: RecordedRequest) => boolean, options?: WaitOptions): Promise<RecordedRequest>;
  /**
   * The next `count` requests to the email endpoints get this fault (default: 500 application_error),
   * ahead of the key check, the rate limit and idempotency. An injected 429 carries Resend's headers.
   */
  failNext(count: number, options?: FailNextOptions): void;
  /** Hold every answer (requests are still processed and recorded) until resume(). */
  pause(): void;
  resume(): void;
  /** From now on Resend refuses this recipient address. */
  rejectRecipient(address: string): void;
  /** Switch the rate limit on (or off with undefined) at any time. */
  setRateLimit(rateLimit: RateLimit | undefined): void;
  /** Forgets emails, requests, idempotency keys, the rate window, the 429 count and pending faults; releases held answers. Keeps keys and refused recipients. */
  reset(): void;
  close(): Promise<void>;
}

/** Resend's errors as its API sends them (docs "Errors" page and observed answers). */
export const RESEND_ERRORS = {
  missingApiKey: { statusCode: 401, name: 'missing_api_key', message: 'Missing API key in the authorization header.' },
  /** What the sending endpoints answer for a key that does not exist (observed; older docs said 403 invalid_api_key). */
  invalidApiKey: { statusCode: 401, name: 'validation_error', message: 'API key is invalid' },
  invalidIdempotencyKey: { statusCode: 400, name: 'invalid_idempotency_key', message: 'Idempotency keys, if present, must have between 1 and 256 characters.' },
  invalidIdempotentRequest: {
    statusCode: 409,
    name: 'invalid_idempotent_request',
    message: "This idempotency key has been used with this HTTP method and endpoint within the last 24 hours, but the request body was modified and doesn't match the original request.",
  },
  concurrentIdempotentRequests: { statusCode: 409, name: 'concurrent_idempotent_requests', message: 'There is another request in progress with the same idempotency key.' },
  rateLimitExceeded: {
    statusCode: 429,
    name: 'rate_limit_exceeded',
    message: 'Too many requests. Please limit the number of requests per second. Or contact support to increase rate limit.',
  },
  notFound: { statusCode: 404, name: 'not_found', message: 'The requested endpoint does not exist.' },
  methodNotAllowed: { statusCode: 405, name: 'method_not_allowed', message: 'Method is not allowed for the requested path.' },
  applicationError: { statusCode: 500, name: 'application_error', message: 'An unexpected error occurred.' },
  serviceUnavailable: { statusCode: 503, name: 'service_unavailable', message: 'API is temporarily unavailable' },
} as const satisfies Record<string, ResendError>;

export const DEFAULT_API_KEY = 're_fake_nurture_test_key';
const DEFAULT_TIMEOUT_MS = 5_000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Resend: up to 100 emails per batch call, up to 50 `to` addresses per email. */
const MAX_BATCH = 100;
const MAX_TO = 50;
const MAX_IDEMPOTENCY_KEY = 256;
/** Tag names and values: ASCII letters, digits, underscores, dashes; at most 256 characters. */
const TAG_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;
const ADDRESS_PATTERN = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:.]+$/;
const NAMED_ADDRESS_PATTERN = /^\s*(?:[^<>]*?)\s*<([^<>]+)>\s*$/;
const FORMAT_HINT = 'The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.';

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
  error?: ResendError;
  itemErrors?: Array<{ index: number; message: string }>;
}

interface IdempotencyEntry {
  fingerprint: string;
  inFlight: boolean;
  reply?: Reply;
  storedAt: number;
}

interface Fault {
  options: FailNextOptions;
  remaining: number;
}

interface Waiter {
  /** True once settled (resolved or rejected). */
  check(): boolean;
  fail(error: Error): void;
}

export async function startFakeResend(options: FakeResendOptions = {}): Promise<FakeResend> {
  const apiKeys = new Set(options.apiKeys ?? [DEFAULT_API_KEY]);
  const firstKey = [...apiKeys][0];
  if (firstKey === undefined) throw new Error('startFakeResend: apiKeys must hold at least one key');
  const keepBodies = options.keepBodies !== false;
  const idempotencyTtlMs = options.idempotencyTtlMs ?? DAY_MS;
  const verifiedDomains = options.verifiedDomains ? new Set(options.verifiedDomains.map((domain) => domain.toLowerCase())) : undefined;
  const refusedRecipients = new Set<string>();
  for (const address of options.rejectRecipients ?? []) refusedRecipients.add(address.trim().toLowerCase());
  let rateLimit = options.rateLimit;

  // ---- state --------------------------------------------------------------------------------------
  let emails: RecordedEmail[] = [];
  let requests: RecordedRequest[] = [];
  let emailsById = new Map<string, RecordedEmail>();
  let emailsByRecipient = new Map<string, RecordedEmail[]>();
  let idempotency = new Map<string, IdempotencyEntry>();
  let faults: Fault[] = [];
  let rateLimited = 0;
  /** Admission times in the sliding window; entries before windowStart have left it. */
  let window: number[] = [];
  let windowStart = 0;
  let paused = false;
  let held: Array<() => void> = [];
  /** Bumped by reset(), so waiters scanning incrementally start over. */
  let generation = 0;
  let batchSequence = 0;
  const waiters = new Set<Waiter>();
  const timers = new Set<NodeJS.Timeout>();

  const notify = () => {
    for (const waiter of waiters) if (waiter.check()) waiters.delete(waiter);
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  // ---- rate limiting ------------------------------------------------------------------------------
  /** Admits the request into the sliding window or refuses it; the ratelimit-* headers either way. */
  function admit(now: number): { admitted: boolean; headers: Record<string, string> } | undefined {
    if (rateLimit === undefined) return undefined;
    const limit = rateLimit.requestsPerSecond;
    while (windowStart < window.length && window[windowStart]! <= now - 1000) windowStart++;
    if (windowStart > 4096 && windowStart * 2 > window.length) {
      window = window.slice(windowStart);
      windowStart = 0;
    }
    const inWindow = window.length - windowStart;
    // Seconds until the oldest admitted request leaves the window; Resend sends whole seconds.
    const resetSeconds = (oldest: number) => String(Math.max(1, Math.ceil((oldest + 1000 - now) / 1000)));
    if (inWindow >= limit) {
      const reset = resetSeconds(window[windowStart]!);
      return { admitted: false, headers: { 'ratelimit-limit': String(limit), 'ratelimit-remaining': '0', 'ratelimit-reset': reset, 'retry-after': reset } };
    }
    window.push(now);
    return {
      admitted: true,
      headers: { 'ratelimit-limit': String(limit), 'ratelimit-remaining': String(limit - inWindow - 1), 'ratelimit-reset': resetSeconds(window[windowStart]!) },
    };
  }

  // ---- validation ---------------------------------------------------------------------------------
  /** The bare, lower-cased address of `a@b.c` or `Name <a@b.c>`, or undefined when malformed. */
  function bareAddress(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    const named = value.includes('<') ? NAMED_ADDRESS_PATTERN.exec(value)?.[1] : value;
    const address = named?.trim();
    return address !== undefined && ADDRESS_PATTERN.test(address) ? address.toLowerCase() : undefined;
  }

  function addressList(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [value];
  }

  const missing = (field: string): ResendError => ({ statusCode: 422, name: 'missing_required_field', message: `Missing \`${field}\` field.` });
  const invalid = (message: string, statusCode = 422): ResendError => ({ statusCode, name: 'validation_error', message });
  const invalidAddressField = (field: string) => invalid(`Invalid \`${field}\` field. ${FORMAT_HINT}`);
  const isBlank = (value: unknown) => value === undefined || value === null || value === '';

  /** What Resend refuses in one email (a POST /emails body or one item of a batch), or undefined. */
  function problemWith(item: unknown, inBatch: boolean): ResendError | undefined {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return invalid('Each email must be an `object`.');
    const email = item as Json;

    if (isBlank(email.from)) return missing('from');
    const from = bareAddress(email.from);
    if (from === undefined) return { statusCode: 422, name: 'invalid_from_address', message: `Invalid \`from\` field. ${FORMAT_HINT}` };
    if (verifiedDomains !== undefined) {
      const domain = from.slice(from.lastIndexOf('@') + 1);
      if (!verifiedDomains.has(domain)) return invalid(`The ${domain} domain is not verified. Please, add and verify your domain.`, 403);
    }

    if (isBlank(email.to) || (Array.isArray(email.to) && email.to.length === 0)) return missing('to');
    const to = addressList(email.to);
    if (to.length > MAX_TO) return invalid(`Invalid \`to\` field. The maximum number of recipients is ${MAX_TO}.`);
    for (const field of ['to', 'cc', 'bcc', 'reply_to'] as const) {
      if (isBlank(email[field])) continue;
      for (const value of addressList(email[field])) {
        const address = bareAddress(value);
        if (address === undefined || (field !== 'reply_to' && refusedRecipients.has(address))) return invalidAddressField(field);
      }
    }

    if (isBlank(email.subject)) return missing('subject');
    if (typeof email.subject !== 'string') return invalid('The `subject` field must be a `string`.');

    const hasTemplate = typeof email.template === 'object' && email.template !== null;
    if (isBlank(email.html) && isBlank(email.text) && !hasTemplate) return missing('html` or `text');
    for (const field of ['html', 'text'] as const) {
      if (!isBlank(email[field]) && typeof email[field] !== 'string') return invalid(`The \`${field}\` field must be a \`string\`.`);
    }

    if (email.headers !== undefined && email.headers !== null) {
      const headers = email.headers;
      if (typeof headers !== 'object' || Array.isArray(headers) || Object.values(headers).some((value) => typeof value !== 'string')) {
        return invalid('The `headers` field must be an `object` whose values are strings.');
      }
    }

    if (email.tags !== undefined && email.tags !== null) {
      if (!Array.isArray(email.tags)) return invalid('The `tags` field must be an `array`.');
      for (const tag of email.tags as unknown[]) {
        const { name, value } = (typeof tag === 'object' && tag !== null ? tag : {}) as Json;
        if (typeof name !== 'string' || typeof value !== 'string' || !TAG_PATTERN.test(name) || !TAG_PATTERN.test(value)) {
          return invalid('Tags should only contain ASCII letters, numbers, underscores, or dashes.');
        }
      }
    }

    if (inBatch) {
      if (Array.isArray(email.attachments) ? email.attachments.length > 0 : !isBlank(email.attachments)) return invalid('Attachments are not supported in batch emails.');
      if (!isBlank(email.scheduled_at)) return invalid('The `scheduled_at` field is not supported in batch emails.');
    }
    return undefined;
  }

  // ---- recording ----------------------------------------------------------------------------------
  const stringList = (value: unknown): string[] | undefined => (isBlank(value) ? undefined : (addressList(value) as string[]));

  function recordEmail(body: Json, apiKey: string, idempotencyKey: string | undefined, at: Date, batchId?: string, batchIndex?: number): RecordedEmail {
    const html = typeof body.html === 'string' ? body.html : undefined;
    const text = typeof body.text === 'string' ? body.text : undefined;
    const email: RecordedEmail = {
      id: randomUUID(),
      from: body.from as string,
      to: addressList(body.to) as string[],
      cc: stringList(body.cc),
      bcc: stringList(body.bcc),
      replyTo: stringList(body.reply_to),
      subject: body.subject as string,
      html: keepBodies ? html : undefined,
      text: keepBodies ? text : undefined,
      htmlLength: html?.length ?? 0,
      textLength: text?.length ?? 0,
      headers: (body.headers ?? undefined) as Record<string, string> | undefined,
      tags: (body.tags ?? undefined) as Tag[] | undefined,
      scheduledAt: typeof body.scheduled_at === 'string' ? body.scheduled_at : undefined,
      attachmentCount: Array.isArray(body.attachments) ? body.attachments.length : 0,
      idempotencyKey,
      batchId,
      batchIndex,
      apiKey,
      receivedAt: at,
    };
    emails.push(email);
    emailsById.set(email.id, email);
    for (const list of [email.to, email.cc, email.bcc]) {
      if (list === undefined) continue;
      for (const value of list) {
        const address = bareAddress(value) ?? String(value).toLowerCase();
        const known = emailsByRecipient.get(address);
        if (known === undefined) emailsByRecipient.set(address, [email]);
        else if (known[known.length - 1] !== email) known.push(email);
      }
    }
    return email;
  }

  // ---- answers ------------------------------------------------------------------------------------
  const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value) });
  const errorReply = (error: ResendError, headers?: Record<string, string>): Reply => ({ ...json(error.statusCode, error), error, headers });

  function injectedReply(fault: FailNextOptions): Reply {
    const status = fault.status ?? 500;
    const known = Object.values(RESEND_ERRORS).find((error) => error.statusCode === status);
    const name = fault.name ?? (status === 500 ? 'application_error' : (known?.name ?? 'application_error'));
    const message = fault.message ?? (known?.name === name ? known.message : RESEND_ERRORS.applicationError.message);
    const headers =
      status === 429
        ? { 'ratelimit-limit': String(rateLimit?.requestsPerSecond ?? 5), 'ratelimit-remaining': '0', 'ratelimit-reset': '1', 'retry-after': '1' }
        : undefined;
    return errorReply({ statusCode: status, name, message }, headers);
  }

  function send(res: ServerResponse, reply: Reply | 'disconnect', rateHeaders: Record<string, string> | undefined): void {
    const write = () => {
      if (res.destroyed || res.writableEnded) return;
      if (reply === 'disconnect') {
        res.socket?.destroy();
        return;
      }
      if (reply.status === 429) rateLimited++;
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(reply.body),
        ...rateHeaders,
        ...reply.headers,
      });
      res.end(reply.body);
    };
    if (paused) held.push(write);
    else write();
  }

  function recordRequest(request: Omit<RecordedRequest, 'status' | 'error' | 'itemErrors'>, reply: Reply | 'disconnect'): void {
    requests.push(
      reply === 'disconnect'
        ? { ...request, status: 0 }
        : { ...request, status: reply.status, error: reply.error, itemErrors: reply.itemErrors },
    );
    notify();
  }

  function takeFault(): FailNextOptions | undefined {
    const fault = faults[0];
    if (fault === undefined) return undefined;
    if (--fault.remaining <= 0) faults.shift();
    return fault.options;
  }

  // ---- the endpoints ------------------------------------------------------------------------------
  /** Parses and validates the body, records what Resend would accept, and builds Resend's answer. */
  function processEmails(endpoint: 'single' | 'batch', raw: string, permissive: boolean, apiKey: string, idempotencyKey: string | undefined): { reply: Reply; ids: string[] } {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return { reply: errorReply(invalid('The request body is not valid JSON.', 400)), ids: [] };
    }
    const at = new Date();
    if (endpoint === 'single') {
      const problem = problemWith(body, false);
      if (problem !== undefined) return { reply: errorReply(problem), ids: [] };
      const email = recordEmail(body as Json, apiKey, idempotencyKey, at);
      return { reply: json(200, { id: email.id }), ids: [email.id] };
    }

    if (!Array.isArray(body)) return { reply: errorReply(invalid('The `request.body` field must be an `array`.')), ids: [] };
    if (body.length === 0) return { reply: errorReply(invalid('The `request.body` field must contain at least 1 email.')), ids: [] };
    if (body.length > MAX_BATCH) return { reply: errorReply(invalid(`Too many emails in the batch: the maximum is ${MAX_BATCH} per request.`)), ids: [] };
    const problems = body.map((item) => problemWith(item, true));
    // Strict (the default) refuses the whole batch with the first problem; permissive sends the valid ones.
    if (!permissive) {
      const first = problems.find((problem) => problem !== undefined);
      if (first !== undefined) return { reply: errorReply(first), ids: [] };
    }
    const batchId = `batch_${++batchSequence}`;
    const data: Array<{ id: string }> = [];
    const errors: Array<{ index: number; message: string }> = [];
    body.forEach((item, index) => {
      const problem = problems[index];
      if (problem !== undefined) errors.push({ index, message: problem.message });
      else data.push({ id: recordEmail(item as Json, apiKey, idempotencyKey, at, batchId, index).id });
    });
    const reply = json(200, permissive ? { data, errors } : { data });
    return { reply: errors.length > 0 ? { ...reply, itemErrors: errors } : reply, ids: data.map((entry) => entry.id) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const now = Date.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const idempotencyHeader = req.headers['idempotency-key'];
    const idempotencyKey = typeof idempotencyHeader === 'string' ? idempotencyHeader : undefined;
    const authorization = req.headers.authorization;
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
    const endpoint = path === '/emails' ? 'single' : path === '/emails/batch' ? 'batch' : undefined;
    const batchValidation: RecordedRequest['batchValidation'] = endpoint === 'batch' ? (req.headers['x-batch-validation'] === 'permissive' ? 'permissive' : 'strict') : undefined;
    const request: Omit<RecordedRequest, 'status' | 'error' | 'itemErrors'> = { method, path, emailIds: [], idempotencyKey, batchValidation, replayed: false, injected: false, apiKey: bearer || undefined, at: new Date(now) };
    const refuse = (reply: Reply) => {
      recordRequest(request, reply);
      send(res, reply, undefined);
    };

    if (endpoint === undefined) return refuse(errorReply(RESEND_ERRORS.notFound));
    if (method !== 'POST') return refuse(errorReply(RESEND_ERRORS.methodNotAllowed));

    const fault = takeFault();
    // Only a delay and nothing else means "slow, then the real answer"; anything else injects an answer.
    const delayOnly = fault !== undefined && fault.delayMs !== undefined && fault.status === undefined && fault.disconnect !== true && fault.name === undefined && fault.message === undefined;
    const faultAnswer = fault !== undefined && !delayOnly;
    if (fault !== undefined && faultAnswer && fault.afterProcessing !== true) {
      // Resend failed before doing anything: nothing recorded, the idempotency key stays free.
      const reply = fault.disconnect === true ? 'disconnect' : injectedReply(fault);
      recordRequest({ ...request, injected: true }, reply);
      if (fault.delayMs !== undefined) await sleep(fault.delayMs);
      return send(res, reply, undefined);
    }

    if (!bearer) return refuse(errorReply(RESEND_ERRORS.missingApiKey));
    if (!apiKeys.has(bearer)) return refuse(errorReply(RESEND_ERRORS.invalidApiKey));

    const admission = admit(now);
    if (admission !== undefined && !admission.admitted) return refuse(errorReply(RESEND_ERRORS.rateLimitExceeded, admission.headers));
    const rateHeaders = admission?.headers;

    let entry: IdempotencyEntry | undefined;
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length < 1 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY) return refuse(errorReply(RESEND_ERRORS.invalidIdempotencyKey));
      // Keys are remembered per endpoint, with a fingerprint of the exact body the SDK sent.
      const slot = `${path} ${idempotencyKey}`;
      const fingerprint = createHash('sha256').update(raw).digest('base64');
      const known = idempotency.get(slot);
      if (known !== undefined && !known.inFlight && now - known.storedAt > idempotencyTtlMs) idempotency.delete(slot);
      const existing = idempotency.get(slot);
      if (existing !== undefined) {
        const conflict = existing.inFlight ? RESEND_ERRORS.concurrentIdempotentRequests : existing.fingerprint !== fingerprint ? RESEND_ERRORS.invalidIdempotentRequest : undefined;
        if (conflict !== undefined) {
          const reply = errorReply(conflict);
          recordRequest(request, reply);
          return send(res, reply, rateHeaders);
        }
        const replay = existing.reply!;
        recordRequest({ ...request, replayed: true }, replay);
        return send(res, replay, rateHeaders);
      }
      entry = { fingerprint, inFlight: true, storedAt: now };
      idempotency.set(slot, entry);
    }

    // A slow Resend: the key is in flight while it works.
    if (fault !== undefined && !faultAnswer && fault.afterProcessing !== true && fault.delayMs !== undefined) await sleep(fault.delayMs);

    const { reply, ids } = processEmails(endpoint, raw, batchValidation === 'permissive', bearer, idempotencyKey);
    if (entry !== undefined) {
      entry.inFlight = false;
      entry.reply = reply;
      entry.storedAt = Date.now();
    }

    if (fault !== undefined && fault.afterProcessing === true) {
      // Resend did the work; the caller gets the injected answer (or the real one, late).
      const injected = faultAnswer ? (fault.disconnect === true ? 'disconnect' : injectedReply(fault)) : reply;
      recordRequest({ ...request, emailIds: ids, injected: faultAnswer }, injected);
      if (fault.delayMs !== undefined) await sleep(fault.delayMs);
      return send(res, injected, injected === reply ? rateHeaders : undefined);
    }
    recordRequest({ ...request, emailIds: ids }, reply);
    send(res, reply, rateHeaders);
  }

  // ---- waiting ------------------------------------------------------------------------------------
  function waitFor<T>(settle: () => T | undefined, timeoutMs: number, describeFailure: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const found = settle();
      if (found !== undefined) return resolve(found);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(describeFailure()));
      }, timeoutMs);
      const waiter: Waiter = {
        check() {
          const match = settle();
          if (match === undefined) return false;
          clearTimeout(timer);
          resolve(match);
          return true;
        },
        fail(error) {
          clearTimeout(timer);
          reject(error);
        },
      };
      waiters.add(waiter);
    });
  }

  /** Scans only what arrived since the last look (a benchmark waits on 100,000 emails). */
  function incrementalMatcher<T>(list: () => readonly T[], predicate: (item: T) => boolean) {
    let seen = 0;
    let matches: T[] = [];
    let scannedGeneration = generation;
    return () => {
      if (scannedGeneration !== generation) {
        scannedGeneration = generation;
        seen = 0;
        matches = [];
      }
      const items = list();
      for (; seen < items.length; seen++) if (predicate(items[seen]!)) matches.push(items[seen]!);
      return matches;
    };
  }

  function describeArrivals(): string {
    const shown = emails.slice(-10).map((email) => `  ${email.id} to ${email.to.join(', ')} "${email.subject}"${email.batchId ? ` (${email.batchId}[${email.batchIndex}])` : ''}`);
    const lastRequests = requests.slice(-10).map(describeRequest);
    return (
      `${emails.length} email(s) arrived${emails.length > 10 ? ' (last 10)' : ''}${shown.length > 0 ? `:\n${shown.join('\n')}` : ''}\n` +
      `${requests.length} request(s)${requests.length > 10 ? ' (last 10)' : ''}${lastRequests.length > 0 ? `:\n${lastRequests.map((line) => `  ${line}`).join('\n')}` : ''}`
    );
  }

  // ---- HTTP server --------------------------------------------------------------------------------
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      handle(req, res, raw).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake Resend failed: ${error instanceof Error ? error.stack : String(error)}`);
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // ---- the handle tests use -----------------------------------------------------------------------
  function releaseHeld(): void {
    const answers = held;
    held = [];
    for (const write of answers) write();
  }

  return {
    url,
    apiKey: firstKey,
    get emails() {
      return emails;
    },
    get requests() {
      return requests;
    },
    get rateLimited() {
      return rateLimited;
    },
    get held() {
      return held.length;
    },
    byRecipient(address) {
      return [...(emailsByRecipient.get(bareAddress(address) ?? address.trim().toLowerCase()) ?? [])];
    },
    emailById(id) {
      return emailsById.get(id);
    },
    waitForEmails(target: number | ((email: RecordedEmail) => boolean), { timeoutMs = DEFAULT_TIMEOUT_MS, count = typeof target === 'number' ? target : 1 }: WaitOptions & { count?: number } = {}) {
      const matching = typeof target === 'number' ? () => emails : incrementalMatcher(() => emails, target);
      const what = typeof target === 'number' ? `${count} email(s)` : `${count} email(s) matching the predicate`;
      return waitFor(
        () => {
          const found = matching();
          return found.length >= count ? found.slice(0, count) : undefined;
        },
        timeoutMs,
        () => `Timed out after ${timeoutMs} ms waiting for ${what}${typeof target === 'number' ? '' : ` (${matching().length} matched)`}. ${describeArrivals()}`,
      );
    },
    waitForRequest(predicate, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
      const matching = incrementalMatcher(() => requests, predicate);
      return waitFor(
        () => matching()[0],
        timeoutMs,
        () => `Timed out after ${timeoutMs} ms waiting for a request matching the predicate. ${describeArrivals()}`,
      );
    },
    failNext(count, faultOptions = {}) {
      if (count > 0) faults.push({ options: faultOptions, remaining: count });
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      releaseHeld();
    },
    rejectRecipient(address) {
      refusedRecipients.add(address.trim().toLowerCase());
    },
    setRateLimit(next) {
      rateLimit = next;
      window = [];
      windowStart = 0;
    },
    reset() {
      paused = false;
      releaseHeld();
      emails = [];
      requests = [];
      emailsById = new Map();
      emailsByRecipient = new Map();
      idempotency = new Map();
      faults = [];
      rateLimited = 0;
      window = [];
      windowStart = 0;
      generation++;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const waiter of waiters) waiter.fail(new Error('fake Resend closed while a test was waiting on it'));
      waiters.clear();
      held = [];
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  } satisfies FakeResend;
}

function describeRequest(request: RecordedRequest): string {
  const outcome = request.error ? `${request.status} ${request.error.name}: ${request.error.message}` : String(request.status || 'connection dropped');
  const flags = [request.replayed ? 'replay' : '', request.injected ? 'failNext' : '', request.idempotencyKey ? `key ${request.idempotencyKey}` : ''].filter(Boolean);
  const items = request.itemErrors?.length ? ` item errors ${request.itemErrors.map((error) => `#${error.index} ${error.message}`).join('; ')}` : '';
  return `${request.method} ${request.path} → ${outcome}${request.emailIds.length ? ` (${request.emailIds.length} email(s))` : ''}${flags.length ? ` [${flags.join(', ')}]` : ''}${items}`;
}
