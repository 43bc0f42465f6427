// A fake Resend in its own process for the delivery benchmarks, so its JSON parsing does not share the
// app's event loop (the real Resend is another machine). Driven over the fork IPC channel:
// parent → { type: 'count' } | { type: 'stats' } | { type: 'rate-limit', requestsPerSecond?: number } | { type: 'reset' }
// child → { type: 'ready', url, apiKey } | { type: 'count', emails } | { type: 'stats', emails, requests, rateLimited, firstAcceptedAt, lastAcceptedAt }
import { startFakeResend } from '../../tests/support/fake-resend.ts';

const fake = await startFakeResend({ keepBodies: false });
process.on('message', (message: { type: string; requestsPerSecond?: number }) => {
  // Polled every few milliseconds while a send runs: only a count, no walk over 100,000 emails.
  if (message.type === 'count') process.send!({ type: 'count', emails: fake.emails.length });
  if (message.type === 'stats') {
    const accepted = fake.requests.filter((request) => request.status === 200);
    process.send!({
      type: 'stats',
      emails: fake.emails.length,
      bytes: fake.emails.reduce((sum, email) => sum + email.htmlLength + email.textLength, 0),
      requests: fake.requests.length,
      rateLimited: fake.rateLimited,
      // When the first and the last accepted request arrived: the rate Resend saw.
      firstAcceptedAt: accepted[0]?.at.getTime(),
      lastAcceptedAt: accepted.at(-1)?.at.getTime(),
    });
  }
  if (message.type === 'rate-limit') fake.setRateLimit(message.requestsPerSecond ? { requestsPerSecond: message.requestsPerSecond } : undefined);
  if (message.type === 'reset') fake.reset();
});
process.on('disconnect', () => void fake.close().then(() => process.exit(0)));
process.send!({ type: 'ready', url: fake.url, apiKey: fake.apiKey });
