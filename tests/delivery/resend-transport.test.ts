import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingEmail } from '../../src/modules/delivery/email-transport.ts';
import { ResendTransport } from '../../src/modules/delivery/resend-transport.ts';
import { startFakeResend, type FakeResend } from '../support/fake-resend.ts';

const FROM = 'Nurture Test <news@nurture.test>';
const TEAM = 'T0TEST';

let fake: FakeResend;
let transport: ResendTransport;

beforeAll(async () => {
  fake = await startFakeResend({ verifiedDomains: ['nurture.test'], rejectRecipients: ['refused@example.com'] });
  transport = new ResendTransport({ apiKey: fake.apiKey, baseUrl: fake.url });
});
afterEach(() => {
  fake.setRateLimit(undefined);
  fake.reset();
});
afterAll(() => fake.close());

let keys = 0;
const newKey = () => `batch-${process.pid}-${++keys}`;

const email = (to: string, overrides: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  from: FROM,
  to,
  subject: `News for ${to}`,
  html: `<p>Hello ${to}</p>`,
  text: `Hello ${to}`,
  headers: { 'List-Unsubscribe': `<https://nurture.test/u/${to}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  tags: [{ name: 'send', value: '42' }],
  ...overrides,
});

describe('Resend transport', () => {
  it('sends a batch with its idempotency key and answers each email with its Resend id', async () => {
    const key = newKey();
    const outcome = await transport.sendBatch([email('ann@example.com'), email('bob@example.com'), email('cid@example.com')], { teamId: TEAM, idempotencyKey: key });
    const recorded = await fake.waitForEmails(3);
    expect(outcome).toEqual({ kind: 'accepted', items: recorded.map((sent) => ({ ok: true, id: sent.id })) });
    expect(recorded.map((sent) => sent.to)).toEqual([['ann@example.com'], ['bob@example.com'], ['cid@example.com']]);
    expect(recorded[0]).toMatchObject({
      from: FROM,
      subject: 'News for ann@example.com',
      html: '<p>Hello ann@example.com</p>',
      text: 'Hello ann@example.com',
      headers: { 'List-Unsubscribe': '<https://nurture.test/u/ann@example.com>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      tags: [{ name: 'send', value: '42' }],
      idempotencyKey: key,
      scheduledAt: undefined,
      attachmentCount: 0,
    });
    expect(fake.requests).toEqual([expect.objectContaining({ path: '/emails/batch', batchValidation: 'permissive', idempotencyKey: key, status: 200 })]);
  });

  it('sends the valid emails of a batch and names the refused ones', async () => {
    const outcome = await transport.sendBatch([email('ann@example.com'), email('refused@example.com'), email('bob@example.com')], { teamId: TEAM, idempotencyKey: newKey() });
    const recorded = await fake.waitForEmails(2);
    expect(outcome).toEqual({
      kind: 'accepted',
      items: [{ ok: true, id: recorded[0]!.id }, { ok: false, error: expect.stringMatching(/Invalid `to` field/) }, { ok: true, id: recorded[1]!.id }],
    });
    expect(fake.byRecipient('refused@example.com')).toEqual([]);
  });

  it('a retry with the same key and batch gets the same ids and sends nothing twice', async () => {
    const key = newKey();
    const batch = [email('ann@example.com'), email('bob@example.com')];
    const first = await transport.sendBatch(batch, { teamId: TEAM, idempotencyKey: key });
    const second = await transport.sendBatch(batch, { teamId: TEAM, idempotencyKey: key });
    expect(second).toEqual(first);
    expect(fake.emails).toHaveLength(2);
    expect(fake.requests.map((request) => request.replayed)).toEqual([false, true]);
  });

  it('the same key with a different batch is refused for good: it means the key was derived wrongly', async () => {
    const key = newKey();
    await transport.sendBatch([email('ann@example.com')], { teamId: TEAM, idempotencyKey: key });
    const outcome = await transport.sendBatch([email('ann@example.com', { subject: 'Changed' })], { teamId: TEAM, idempotencyKey: key });
    expect(outcome).toEqual({ kind: 'permanent', code: 'invalid_idempotent_request', status: 409, message: expect.stringContaining('request body was modified') });
    expect(fake.emails).toHaveLength(1);
  });

  it('a 429 says how long to wait, from Resend rate limit headers', async () => {
    fake.setRateLimit({ requestsPerSecond: 1 });
    const outcomes = await Promise.all(['ann', 'bob', 'cid'].map((name) => transport.sendBatch([email(`${name}@example.com`)], { teamId: TEAM, idempotencyKey: newKey() })));
    expect(outcomes.filter((outcome) => outcome.kind === 'accepted')).toHaveLength(1);
    for (const outcome of outcomes.filter((outcome) => outcome.kind !== 'accepted')) {
      expect(outcome).toEqual({ kind: 'rate-limited', retryAfterSeconds: 1, rateLimit: { limit: 1, remaining: 0, resetSeconds: 1 }, message: expect.stringContaining('Too many requests') });
    }
    expect(fake.emails).toHaveLength(1);
  });

  it('a used-up sending quota is a wait too, flagged so the owner of the send can be told', async () => {
    fake.failNext(1, { status: 429, name: 'daily_quota_exceeded', message: 'You have reached your daily email sending quota.' });
    const outcome = await transport.sendBatch([email('ann@example.com')], { teamId: TEAM, idempotencyKey: newKey() });
    expect(outcome).toMatchObject({ kind: 'rate-limited', quota: 'daily', retryAfterSeconds: 1 });
  });

  it('a 5xx or a dropped connection is transient: it may or may not have been sent', async () => {
    fake.failNext(1, { status: 500 });
    expect(await transport.sendBatch([email('ann@example.com')], { teamId: TEAM, idempotencyKey: newKey() })).toEqual({
      kind: 'transient',
      reason: 'server-error',
      status: 500,
      message: expect.any(String),
    });
    fake.failNext(1, { status: 503 });
    expect(await transport.sendBatch([email('ann@example.com')], { teamId: TEAM, idempotencyKey: newKey() })).toMatchObject({ kind: 'transient', reason: 'server-error', status: 503 });
    fake.failNext(1, { disconnect: true });
    expect(await transport.sendBatch([email('ann@example.com')], { teamId: TEAM, idempotencyKey: newKey() })).toMatchObject({ kind: 'transient', reason: 'network' });
    expect(fake.emails).toEqual([]);
  });

  it('when Resend sent the emails but the answer was lost, the retry with the same key returns their ids', async () => {
    const key = newKey();
    const batch = [email('ann@example.com'), email('bob@example.com')];
    fake.failNext(1, { status: 500, afterProcessing: true });
    expect(await transport.sendBatch(batch, { teamId: TEAM, idempotencyKey: key })).toMatchObject({ kind: 'transient' });
    const retry = await transport.sendBatch(batch, { teamId: TEAM, idempotencyKey: key });
    expect(retry).toEqual({ kind: 'accepted', items: fake.emails.map((sent) => ({ ok: true, id: sent.id })) });
    expect(fake.emails).toHaveLength(2);
  });

  it('times out as transient; a retry while Resend still works on it is transient too, and the next one gets its answer', async () => {
    const impatient = new ResendTransport({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 250 });
    const key = newKey();
    const batch = [email('ann@example.com')];
    fake.failNext(1, { delayMs: 1000 });
    expect(await impatient.sendBatch(batch, { teamId: TEAM, idempotencyKey: key })).toMatchObject({ kind: 'transient', reason: 'timeout' });
    expect(await impatient.sendBatch(batch, { teamId: TEAM, idempotencyKey: key })).toMatchObject({ kind: 'transient', reason: 'concurrent-request', status: 409 });
    await fake.waitForRequest((request) => request.emailIds.length > 0);
    const [sent] = fake.emails;
    expect(await impatient.sendBatch(batch, { teamId: TEAM, idempotencyKey: key })).toEqual({ kind: 'accepted', items: [{ ok: true, id: sent!.id }] });
    expect(fake.emails).toHaveLength(1);
  });

  it('stops waiting when the caller aborts', async () => {
    fake.pause();
    const controller = new AbortController();
    const sending = transport.sendBatch([email('ann@example.com')], { teamId: TEAM, idempotencyKey: newKey(), signal: controller.signal });
    await fake.waitForRequest((request) => request.path === '/emails/batch');
    controller.abort();
    expect(await sending).toMatchObject({ kind: 'transient', reason: 'aborted' });
    fake.resume();
  });

  it('refuses for good what retrying cannot fix: a bad key, an unverified sender domain', async () => {
    const wrongKey = new ResendTransport({ apiKey: 're_not_a_known_key', baseUrl: fake.url });
    expect(await wrongKey.sendBatch([email('ann@example.com')], { teamId: TEAM, idempotencyKey: newKey() })).toEqual({
      kind: 'permanent',
      code: 'validation_error',
      status: 401,
      message: 'API key is invalid',
    });
    // Permissive validation refuses the unverified domain per email, so the batch as a whole is accepted.
    const outcome = await transport.sendBatch([email('ann@example.com', { from: 'Spoof <news@unverified.example>' })], { teamId: TEAM, idempotencyKey: newKey() });
    expect(outcome).toEqual({ kind: 'accepted', items: [{ ok: false, error: expect.stringMatching(/domain is not verified/) }] });
    expect(fake.emails).toEqual([]);
  });

  it('tells the caller about a batch no transport can send', async () => {
    await expect(transport.sendBatch([], { teamId: TEAM, idempotencyKey: newKey() })).rejects.toThrow(/at least one email/);
    const tooMany = Array.from({ length: 101 }, (_, i) => email(`p${i}@example.com`));
    await expect(transport.sendBatch(tooMany, { teamId: TEAM, idempotencyKey: newKey() })).rejects.toThrow(/at most 100 emails per call; split the batch/);
    await expect(transport.sendBatch([email('ann@example.com')], { teamId: TEAM, idempotencyKey: '' })).rejects.toThrow(/idempotency key/);
    expect(fake.requests).toEqual([]);
  });
});
