import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Resend, type CreateBatchOptions, type CreateEmailOptions } from 'resend';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RESEND_ERRORS, startFakeResend, type FakeResend } from './fake-resend.ts';
import { buildResendEvent, newWebhookSecret, postResendWebhook, signResendWebhook, webhookVerifyHeaders, type ResendEmailEventType } from './resend-webhooks.ts';

const FROM = 'Nurture <hello@nurture.test>';

let fake: FakeResend;
let resend: Resend;

beforeAll(async () => {
  fake = await startFakeResend({ verifiedDomains: ['nurture.test'], rejectRecipients: ['refused@example.com'] });
  resend = new Resend(fake.apiKey, { baseUrl: fake.url });
});

afterEach(() => {
  fake.setRateLimit(undefined);
  fake.reset();
});

afterAll(async () => {
  await fake.close();
});

const email = (to: string, subject = `Hello ${to}`): CreateEmailOptions => ({ from: FROM, to, subject, html: `<p>${subject}</p>`, text: subject });
/** A body the SDK's types would not allow, sent anyway: what Resend answers is the point. */
const unchecked = (body: object) => body as unknown as CreateEmailOptions;

describe('fake Resend with the real SDK: sending', () => {
  it('records a single email with everything the SDK sent', async () => {
    const { data, error, headers } = await resend.emails.send(
      {
        from: FROM,
        to: 'ann@example.com',
        cc: ['Bob <bob@example.com>'],
        subject: 'Welcome',
        html: '<p>Welcome</p>',
        text: 'Welcome',
        headers: { 'List-Unsubscribe': '<https://nurture.test/u/1>' },
        tags: [{ name: 'sequence', value: 'welcome-1' }],
      },
      { idempotencyKey: 'lead-1/welcome-1' },
    );
    expect(error).toBeNull();
    expect(headers?.['content-type']).toBe('application/json');
    const [recorded] = await fake.waitForEmails(1);
    expect(data).toEqual({ id: recorded!.id });
    expect(recorded).toMatchObject({
      from: FROM,
      to: ['ann@example.com'],
      cc: ['Bob <bob@example.com>'],
      subject: 'Welcome',
      html: '<p>Welcome</p>',
      htmlLength: 14,
      text: 'Welcome',
      headers: { 'List-Unsubscribe': '<https://nurture.test/u/1>' },
      tags: [{ name: 'sequence', value: 'welcome-1' }],
      idempotencyKey: 'lead-1/welcome-1',
      batchId: undefined,
      apiKey: fake.apiKey,
    });
    expect(fake.byRecipient('ANN@example.com')).toEqual([recorded]);
    expect(fake.byRecipient('bob@example.com')).toEqual([recorded]);
    expect(fake.emailById(recorded!.id)).toBe(recorded);
    expect(fake.requests).toEqual([expect.objectContaining({ method: 'POST', path: '/emails', status: 200, emailIds: [recorded!.id], replayed: false })]);
  });

  it('is found through RESEND_BASE_URL, which the SDK reads when the client is built', async () => {
    process.env.RESEND_BASE_URL = fake.url;
    const fromEnv = new Resend(fake.apiKey);
    delete process.env.RESEND_BASE_URL;
    expect((await fromEnv.emails.send(email('env@example.com'))).error).toBeNull();
    expect(fake.byRecipient('env@example.com')).toHaveLength(1);
  });

  it('answers a batch nested as Resend does, and records the emails with their batch', async () => {
    const { data, error } = await resend.batch.send([email('a@example.com'), { ...email('b@example.com'), to: ['b@example.com', 'Cee <c@example.com>'] }]);
    expect(error).toBeNull();
    expect(data).toEqual({ data: [{ id: expect.any(String) }, { id: expect.any(String) }] });
    expect(fake.emails.map((e) => [e.id, e.batchIndex])).toEqual([
      [data!.data[0]!.id, 0],
      [data!.data[1]!.id, 1],
    ]);
    expect(new Set(fake.emails.map((e) => e.batchId)).size).toBe(1);
    expect(fake.byRecipient('c@example.com').map((e) => e.id)).toEqual([data!.data[1]!.id]);
    expect(fake.requests[0]).toMatchObject({ path: '/emails/batch', batchValidation: 'strict', status: 200 });
  });

  it('refuses a strict batch with one bad email whole, and sends the good ones of a permissive batch', async () => {
    const batch: CreateBatchOptions = [
      email('a@example.com'),
      { ...email('b@example.com'), to: 'not-an-address' },
      email('c@example.com'),
      email('refused@example.com'),
      unchecked({ from: FROM, to: 'd@example.com', subject: 'No body' }),
    ];

    const strict = await resend.batch.send(batch);
    expect(strict.data).toBeNull();
    expect(strict.error).toMatchObject({ statusCode: 422, name: 'validation_error', message: expect.stringMatching(/^Invalid `to` field/) });
    expect(fake.emails).toHaveLength(0);

    const permissive = await resend.batch.send(batch, { batchValidation: 'permissive' });
    expect(permissive.error).toBeNull();
    expect(permissive.data?.data).toHaveLength(2);
    expect(permissive.data?.errors).toEqual([
      { index: 1, message: expect.stringMatching(/^Invalid `to` field/) },
      { index: 3, message: expect.stringMatching(/^Invalid `to` field/) },
      { index: 4, message: 'Missing `html` or `text` field.' },
    ]);
    expect(fake.emails.map((e) => e.to[0])).toEqual(['a@example.com', 'c@example.com']);
    expect(fake.byRecipient('refused@example.com')).toEqual([]);
    expect(fake.requests[1]).toMatchObject({ batchValidation: 'permissive', itemErrors: expect.any(Array) });
  });
});

describe('fake Resend with the real SDK: idempotency', () => {
  it('replays the first answer for the same key and body, and records nothing new', async () => {
    const first = await resend.emails.send(email('ann@example.com'), { idempotencyKey: 'lead-1/welcome-1' });
    const again = await resend.emails.send(email('ann@example.com'), { idempotencyKey: 'lead-1/welcome-1' });
    expect(again.data).toEqual(first.data);
    expect(fake.emails).toHaveLength(1);

    const batch = [email('a@example.com'), email('b@example.com')];
    const sent = await resend.batch.send(batch, { idempotencyKey: 'newsletter-7/chunk-0' });
    const resent = await resend.batch.send(batch, { idempotencyKey: 'newsletter-7/chunk-0' });
    expect(resent.data).toEqual(sent.data);
    expect(fake.emails).toHaveLength(3);
    expect(fake.requests.map((r) => r.replayed)).toEqual([false, true, false, true]);
  });

  it('answers 409 invalid_idempotent_request for the same key with another body', async () => {
    await resend.emails.send(email('ann@example.com'), { idempotencyKey: 'lead-1/welcome-1' });
    const changed = await resend.emails.send(email('ann@example.com', 'Another subject'), { idempotencyKey: 'lead-1/welcome-1' });
    expect(changed.data).toBeNull();
    expect(changed.error).toEqual(RESEND_ERRORS.invalidIdempotentRequest);
    expect(fake.emails).toHaveLength(1);

    const tooLong = await resend.emails.send(email('ann@example.com'), { idempotencyKey: 'k'.repeat(257) });
    expect(tooLong.error).toMatchObject({ statusCode: 400, name: 'invalid_idempotency_key' });
  });

  it('answers 409 concurrent_idempotent_requests while a timed-out request is still being processed, then the same id', async () => {
    fake.failNext(1, { delayMs: 400 });
    const timedOut = await resend.emails.send(email('ann@example.com'), { idempotencyKey: 'slow/1', signal: AbortSignal.timeout(100) });
    // The SDK turns an abort into a network-style failure: the caller cannot know whether it was sent.
    expect(timedOut.error).toMatchObject({ name: 'application_error', statusCode: null });

    const meanwhile = await resend.emails.send(email('ann@example.com'), { idempotencyKey: 'slow/1' });
    expect(meanwhile.error).toEqual(RESEND_ERRORS.concurrentIdempotentRequests);

    const [sent] = await fake.waitForEmails(1);
    const retried = await resend.emails.send(email('ann@example.com'), { idempotencyKey: 'slow/1' });
    expect(retried.data).toEqual({ id: sent!.id });
    expect(fake.emails).toHaveLength(1);
  });

  it('forgets a key after the retention time (24 h at Resend)', async () => {
    const shortMemory = await startFakeResend({ idempotencyTtlMs: 0 });
    try {
      const client = new Resend(shortMemory.apiKey, { baseUrl: shortMemory.url });
      await client.emails.send(email('ann@example.com'), { idempotencyKey: 'k1' });
      await shortMemory.waitForEmails(1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await client.emails.send(email('ann@example.com'), { idempotencyKey: 'k1' });
      expect(shortMemory.emails).toHaveLength(2);
    } finally {
      await shortMemory.close();
    }
  });
});

describe('fake Resend with the real SDK: refusals', () => {
  it('answers 429 with Resend’s headers over the rate limit, and sends them on accepted answers too', async () => {
    fake.setRateLimit({ requestsPerSecond: 2 });
    const first = await resend.emails.send(email('a@example.com'));
    const second = await resend.emails.send(email('b@example.com'));
    const third = await resend.emails.send(email('c@example.com'));

    expect(first.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '1' });
    expect(second.headers).toMatchObject({ 'ratelimit-remaining': '0' });
    expect(third.data).toBeNull();
    expect(third.error).toEqual(RESEND_ERRORS.rateLimitExceeded);
    expect(third.headers).toMatchObject({ 'retry-after': '1', 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '1' });
    expect(fake.rateLimited).toBe(1);
    expect(fake.emails).toHaveLength(2);
  });

  it('refuses a missing or unknown API key', async () => {
    const unknown = await new Resend('re_unknown_key', { baseUrl: fake.url }).emails.send(email('a@example.com'));
    expect(unknown.error).toEqual(RESEND_ERRORS.invalidApiKey);
    expect(unknown.error?.statusCode).toBe(401);

    // The SDK refuses to start without a key, so the missing header is sent by hand.
    const missing = await fetch(`${fake.url}/emails`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(email('a@example.com')) });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual(RESEND_ERRORS.missingApiKey);
    expect(fake.emails).toHaveLength(0);
  });

  it('refuses what Resend refuses in an email', async () => {
    const base = email('ann@example.com');
    const cases: Array<[string, object, Record<string, unknown>]> = [
      ['no from', { ...base, from: undefined }, { statusCode: 422, name: 'missing_required_field', message: 'Missing `from` field.' }],
      ['a malformed from', { ...base, from: 'Nurture' }, { statusCode: 422, name: 'invalid_from_address' }],
      ['an unverified domain', { ...base, from: 'news@elsewhere.dev' }, { statusCode: 403, name: 'validation_error', message: 'The elsewhere.dev domain is not verified. Please, add and verify your domain.' }],
      ['no to', { ...base, to: [] }, { statusCode: 422, name: 'missing_required_field', message: 'Missing `to` field.' }],
      ['a malformed to', { ...base, to: ['ann(at)example.com'] }, { statusCode: 422, name: 'validation_error', message: expect.stringMatching(/^Invalid `to` field/) }],
      ['51 recipients', { ...base, to: Array.from({ length: 51 }, (_, i) => `r${i}@example.com`) }, { statusCode: 422, name: 'validation_error' }],
      ['a refused recipient', { ...base, to: 'Refused <REFUSED@example.com>' }, { statusCode: 422, name: 'validation_error' }],
      ['no subject', { ...base, subject: undefined }, { statusCode: 422, name: 'missing_required_field', message: 'Missing `subject` field.' }],
      ['neither html nor text', { ...base, html: undefined, text: undefined }, { statusCode: 422, name: 'missing_required_field' }],
      ['headers that are not an object', { ...base, headers: 'X-Lead: 1' }, { statusCode: 422, name: 'validation_error' }],
      ['a tag with a space', { ...base, tags: [{ name: 'campaign', value: 'spring sale' }] }, { statusCode: 422, name: 'validation_error', message: 'Tags should only contain ASCII letters, numbers, underscores, or dashes.' }],
    ];
    for (const [what, body, expected] of cases) {
      const { data, error } = await resend.emails.send(unchecked(body));
      expect({ what, data, error }).toEqual({ what, data: null, error: expect.objectContaining(expected) });
    }
    expect(fake.emails).toHaveLength(0);
    // 50 recipients and an attachment are fine on POST /emails.
    expect((await resend.emails.send({ ...base, to: Array.from({ length: 50 }, (_, i) => `r${i}@example.com`), attachments: [{ filename: 'a.txt', content: 'hi' }] })).error).toBeNull();
    expect(fake.emails[0]).toMatchObject({ attachmentCount: 1 });
  });

  it('refuses batches over 100 emails, with attachments or with scheduled_at', async () => {
    const tooMany = await resend.batch.send(Array.from({ length: 101 }, (_, i) => email(`r${i}@example.com`)), { batchValidation: 'permissive' });
    expect(tooMany.error).toMatchObject({ statusCode: 422, name: 'validation_error' });

    const withAttachment = await resend.batch.send([unchecked({ ...email('a@example.com'), attachments: [{ filename: 'a.txt', content: 'aGk=' }] })]);
    expect(withAttachment.error).toMatchObject({ statusCode: 422, name: 'validation_error', message: expect.stringMatching(/attachments/i) });

    const scheduled = await resend.batch.send([{ ...email('a@example.com'), scheduledAt: 'in 1 hour' }]);
    expect(scheduled.error).toMatchObject({ statusCode: 422, name: 'validation_error', message: expect.stringMatching(/scheduled_at/) });

    expect((await resend.batch.send(Array.from({ length: 100 }, (_, i) => email(`r${i}@example.com`)))).error).toBeNull();
    expect(fake.emails).toHaveLength(100);
  });
});

describe('fake Resend faults and waiting', () => {
  it('injects errors before processing, and after it (sent, but the caller saw a failure)', async () => {
    fake.failNext(2);
    for (let i = 0; i < 2; i++) expect((await resend.emails.send(email('a@example.com'), { idempotencyKey: 'k1' })).error).toEqual(RESEND_ERRORS.applicationError);
    expect(fake.emails).toHaveLength(0);
    const afterFailures = await resend.emails.send(email('a@example.com'), { idempotencyKey: 'k1' });
    expect(afterFailures.error).toBeNull();

    fake.failNext(1, { status: 503, afterProcessing: true });
    const lost = await resend.emails.send(email('b@example.com'), { idempotencyKey: 'k2' });
    expect(lost.error).toEqual(RESEND_ERRORS.serviceUnavailable);
    expect(fake.byRecipient('b@example.com')).toHaveLength(1);
    const retried = await resend.emails.send(email('b@example.com'), { idempotencyKey: 'k2' });
    expect(retried.data).toEqual({ id: fake.byRecipient('b@example.com')[0]!.id });

    fake.failNext(1, { disconnect: true });
    expect((await resend.emails.send(email('c@example.com'))).error).toMatchObject({ name: 'application_error', statusCode: null });

    fake.failNext(1, { status: 429 });
    const limited = await resend.emails.send(email('c@example.com'));
    expect(limited.error).toMatchObject({ statusCode: 429, name: 'rate_limit_exceeded' });
    expect(limited.headers).toMatchObject({ 'retry-after': '1' });
    expect(fake.rateLimited).toBe(1);
    expect(fake.requests.filter((r) => r.injected)).toHaveLength(5);
  });

  it('holds answers while paused: the email is recorded, the caller waits', async () => {
    fake.pause();
    let answered = false;
    const pending = resend.emails.send(email('ann@example.com')).then((result) => {
      answered = true;
      return result;
    });
    const [recorded] = await fake.waitForEmails(1);
    await fake.waitForRequest((request) => request.status === 200);
    expect(fake.held).toBe(1);
    expect(answered).toBe(false);
    fake.resume();
    expect((await pending).data).toEqual({ id: recorded!.id });
    expect(fake.held).toBe(0);
  });

  it('waits on a condition and, on timeout, lists what arrived', async () => {
    await resend.emails.send(email('ann@example.com', 'Only this one'));
    await resend.emails.send(email('not-an-address'));
    await expect(fake.waitForEmails(2, { timeoutMs: 50 })).rejects.toThrow(/waiting for 2 email\(s\)\. 1 email\(s\) arrived:\n.*ann@example\.com "Only this one"[\s\S]*POST \/emails → 422 validation_error/);
    await expect(fake.waitForEmails((e) => e.to.includes('bob@example.com'), { timeoutMs: 50 })).rejects.toThrow(/matching the predicate \(0 matched\)/);

    const waiting = fake.waitForEmails((e) => e.to.includes('bob@example.com'), { count: 2 });
    await resend.batch.send([email('bob@example.com'), email('carl@example.com'), email('bob@example.com', 'Second')]);
    expect((await waiting).map((e) => e.subject)).toEqual(['Hello bob@example.com', 'Second']);
  });
});

describe('Resend webhooks', () => {
  const recorded = {
    id: '4ef9a417-02e9-4d39-ad75-9611e0fcc33c',
    from: FROM,
    to: ['ann@example.com'],
    subject: 'Welcome',
    tags: [{ name: 'lead', value: 'lead-1' }],
    receivedAt: new Date('2026-11-02T10:00:00.000Z'),
  };

  it('signs so that the SDK’s resend.webhooks.verify accepts it, and refuses tampering, staleness and a wrong secret', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const event = buildResendEvent('email.bounced', recorded, { bounceType: 'hard', diagnosticCode: ['smtp; 550 5.1.1 user unknown'] });
    const body = JSON.stringify(event);
    const headers = signResendWebhook({ secret, id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', body });
    expect(headers['svix-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const verify = (payload: string, signed = headers, webhookSecret = secret) => resend.webhooks.verify({ payload, headers: webhookVerifyHeaders(signed), webhookSecret });

    expect(verify(body)).toEqual(event);
    expect(() => verify(body.replace('Permanent', 'Transient'))).toThrow(/No matching signature/);
    expect(() => verify(body, signResendWebhook({ secret, id: 'msg_1', body, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }))).toThrow(/too old/);
    expect(() => verify(body, headers, newWebhookSecret())).toThrow(/No matching signature/);
  });

  it('builds each email event with Resend’s shapes', () => {
    const at = new Date('2026-11-02T10:05:00.000Z');
    const types: ResendEmailEventType[] = ['email.sent', 'email.delivered', 'email.delivery_delayed', 'email.complained', 'email.opened', 'email.failed', 'email.suppressed'];
    for (const type of types) {
      expect(buildResendEvent(type as 'email.sent', recorded, { at })).toMatchObject({
        type,
        created_at: '2026-11-02T10:05:00.000Z',
        data: { email_id: recorded.id, created_at: '2026-11-02T10:00:00.000Z', from: FROM, to: ['ann@example.com'], subject: 'Welcome', tags: { lead: 'lead-1' } },
      });
    }
    expect(buildResendEvent('email.bounced', recorded, { bounceType: 'soft' }).data.bounce).toMatchObject({ type: 'Transient', subType: 'General' });
    expect(buildResendEvent('email.bounced', recorded, { bounceType: 'hard', subType: 'Suppressed' }).data.bounce).toMatchObject({ type: 'Permanent', subType: 'Suppressed' });
    expect(buildResendEvent('email.clicked', recorded, { link: 'https://nurture.test/pricing' }).data.click).toMatchObject({ link: 'https://nurture.test/pricing', ipAddress: expect.any(String) });
    expect(buildResendEvent('email.failed', recorded).data.failed).toEqual({ reason: 'reached_daily_quota' });
    expect(buildResendEvent('email.suppressed', recorded).data.suppressed).toMatchObject({ type: 'OnAccountSuppressionList' });
  });

  it('posts signed webhooks that a receiver verifying with the SDK accepts, and tampered or stale ones it refuses', async () => {
    const secret = newWebhookSecret();
    const received: Array<{ id: string | undefined; status: number }> = [];
    const receiver: Server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        const header = (name: string) => String(req.headers[name] ?? '');
        let status = 200;
        try {
          resend.webhooks.verify({ payload: raw, headers: { id: header('svix-id'), timestamp: header('svix-timestamp'), signature: header('svix-signature') }, webhookSecret: secret });
        } catch {
          status = 400;
        }
        received.push({ id: req.headers['svix-id'] as string | undefined, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/resend`;
      const event = buildResendEvent('email.clicked', recorded, { link: 'https://nurture.test/pricing' });
      expect((await postResendWebhook(url, event, { secret, id: 'msg_1' })).status).toBe(200);
      expect((await postResendWebhook(url, event, { secret, id: 'msg_1' })).status).toBe(200);
      expect((await postResendWebhook(url, event, { secret, id: 'msg_2', tamper: true })).status).toBe(400);
      expect((await postResendWebhook(url, event, { secret, id: 'msg_3', stale: true })).status).toBe(400);
      expect((await postResendWebhook(url, event, { secret, id: 'msg_4', signWith: newWebhookSecret() })).status).toBe(400);
      expect(received).toEqual([
        { id: 'msg_1', status: 200 },
        { id: 'msg_1', status: 200 },
        { id: 'msg_2', status: 400 },
        { id: 'msg_3', status: 400 },
        { id: 'msg_4', status: 400 },
      ]);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
