import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Services } from '../../services.ts';
import type { OutgoingEmail } from './email-transport.ts';

export type OneEmailResult = { ok: true; id: string } | { ok: false; error: string };

const ATTEMPTS = 3;
/** Someone in Slack is waiting for the answer: give up on rate limits after this long. */
const PATIENCE_MS = 20_000;

/**
 * Sends one email outside the send ledger (a test send to the person asking): the same transport and the
 * same shared rate limit as every other email (services.email). Rate limits are waited out; an unknown
 * fate is retried under the same idempotency key, so the person gets at most one.
 */
export async function sendOneEmail(services: Services, email: OutgoingEmail, options: { teamId: string; signal?: AbortSignal }): Promise<OneEmailResult> {
  const idempotencyKey = `nurture-one-${randomUUID()}`;
  const signal = AbortSignal.any([AbortSignal.timeout(PATIENCE_MS), ...(options.signal ? [options.signal] : [])]);
  let lastError = '';
  for (let attempt = 1; attempt <= ATTEMPTS; ) {
    const outcome = await services.email.sendBatch([email], { teamId: options.teamId, idempotencyKey, signal });
    switch (outcome.kind) {
      case 'accepted': {
        const item = outcome.items[0]!;
        return item.ok ? { ok: true, id: item.id } : { ok: false, error: item.error };
      }
      case 'permanent':
        return { ok: false, error: outcome.message };
      case 'rate-limited':
        if (outcome.quota) return { ok: false, error: outcome.message };
        lastError = outcome.message;
        if (signal.aborted) return { ok: false, error: `Resend is rate limiting; try again in a minute (${lastError})` };
        continue;
      case 'transient':
        lastError = outcome.message;
        if (signal.aborted) return { ok: false, error: `Resend did not answer in time: ${lastError}` };
        attempt++;
        await sleep(500 * attempt, undefined, { signal }).catch(() => undefined);
    }
  }
  return { ok: false, error: `Resend did not answer: ${lastError}` };
}
