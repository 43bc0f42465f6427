// A fake Resend in its own process for the delivery benchmarks, so its JSON parsing does not share the
// app's event loop (the real Resend is another machine). Driven over the fork IPC channel:
// parent → { type: 'stats' } | { type: 'rate-limit', requestsPerSecond?: number } | { type: 'reset' }
// child → { type: 'ready', url, apiKey } | { type: 'stats', emails, requests, rateLimited, firstAcceptedAt, lastAcceptedAt }
import { startFakeResend } from '../../tests/support/fake-resend.ts';

const fake = await startFakeResend({ keepBodies: false });
process.on('message', (message: { type: string; requestsPerSecond?: number }) => {
  if (message.type === 'stats') {
    const accepted = fake.requests.filter((request) => request.status === 200);
    process.send!({
      type: 'stats',
      emails: fake.emails.length,
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
