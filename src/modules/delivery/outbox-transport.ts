import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Sql } from '../../db/client.ts';
import { checkBatch, type BatchOutcome, type EmailTransport, type OutgoingEmail, type SendBatchOptions } from './email-transport.ts';
import { insertOutboxBatch, lockOutboxKey, outboxBatchByKey, type OutboxEmailRecord } from './queries.ts';

const AddressSchema = z.email();

/**
 * Records every email in `outbox_emails` instead of sending it, for trying Nurture without a Resend
 * account. It answers like Resend's permissive batch call, so everything downstream behaves as in
 * production: ids for accepted emails, a per-email error for an invalid address, the same ids again for a
 * retry with the same key, and a refusal for the same key with a different batch.
 */
export class OutboxTransport implements EmailTransport {
  readonly name = 'outbox';
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async sendBatch(emails: readonly OutgoingEmail[], options: SendBatchOptions): Promise<BatchOutcome> {
    checkBatch(emails, options);
    if (options.signal?.aborted) return { kind: 'transient', reason: 'aborted', message: 'the call was aborted before the outbox recorded it' };
    const batchHash = fingerprint(options.teamId, emails);
    const records: OutboxEmailRecord[] = emails.map((email, index) => ({
      batch_index: index,
      error: AddressSchema.safeParse(email.to).success ? null : 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
      from_address: email.from,
      to_address: email.to,
      subject: email.subject,
      html_body: email.html,
      text_body: email.text,
      headers: email.headers ?? {},
      tags: email.tags ?? [],
    }));
    const stored = await this.#sql.begin(async (tx) => {
      await lockOutboxKey(tx, options.idempotencyKey);
      const earlier = await outboxBatchByKey(tx, options.idempotencyKey);
      if (earlier.length > 0) return earlier;
      await insertOutboxBatch(tx, { teamId: options.teamId, idempotencyKey: options.idempotencyKey, batchHash, emails: records });
      return outboxBatchByKey(tx, options.idempotencyKey);
    });
    // The key was used before: the same batch gets the same answer, another batch is refused.
    if (stored.length !== emails.length || stored.some((row) => !row.batch_hash.equals(batchHash))) {
      return {
        kind: 'permanent',
        code: 'invalid_idempotent_request',
        status: 409,
        message: `idempotency key ${options.idempotencyKey} was used before with a different batch`,
      };
    }
    return { kind: 'accepted', items: stored.map((row) => (row.message_id !== null ? { ok: true, id: row.message_id } : { ok: false, error: row.error ?? 'refused' })) };
  }
}

/** The whole call, as Resend fingerprints the body it got with an idempotency key. */
function fingerprint(teamId: string, emails: readonly OutgoingEmail[]): Buffer {
  const canonical = emails.map((email) => [email.from, email.to, email.subject, email.html, email.text, email.headers ?? {}, email.tags ?? []]);
  return createHash('sha256').update(JSON.stringify([teamId, canonical])).digest();
}
