import type { Queryable } from '../../db/client.ts';

export interface OutboxEmailRecord {
  batch_index: number;
  error: string | null;
  from_address: string;
  to_address: string;
  subject: string;
  html_body: string;
  text_body: string;
  headers: Record<string, string>;
  tags: ReadonlyArray<{ name: string; value: string }>;
}

/** Calls with the same idempotency key take turns until the transaction ends (as Resend holds a key in flight). */
export async function lockOutboxKey(sql: Queryable, idempotencyKey: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`outbox:${idempotencyKey}`}, 0))`;
}

/** Records a batch under its idempotency key. Accepted emails get a fresh id, refused ones their error. */
export async function insertOutboxBatch(
  sql: Queryable,
  batch: { teamId: string; idempotencyKey: string; batchHash: Buffer; emails: readonly OutboxEmailRecord[] },
): Promise<void> {
  await sql`
    INSERT INTO outbox_emails (team_id, idempotency_key, batch_index, batch_hash, message_id, error,
                               from_address, to_address, subject, html_body, text_body, headers, tags)
    SELECT ${batch.teamId}, ${batch.idempotencyKey}, x.batch_index, ${batch.batchHash},
           CASE WHEN x.error IS NULL THEN gen_random_uuid() END, x.error,
           x.from_address, x.to_address, x.subject, x.html_body, x.text_body, x.headers, x.tags
    FROM jsonb_to_recordset(${sql.json(batch.emails as never)}::jsonb)
      AS x(batch_index int, error text, from_address text, to_address text, subject text, html_body text, text_body text, headers jsonb, tags jsonb)
    ORDER BY x.batch_index`;
}

export interface OutboxAnswerRow {
  team_id: string;
  batch_index: number;
  batch_hash: Buffer;
  message_id: string | null;
  error: string | null;
}

/** What a batch stored under this key answered, in batch order. */
export async function outboxBatchByKey(sql: Queryable, idempotencyKey: string): Promise<OutboxAnswerRow[]> {
  return sql<OutboxAnswerRow[]>`
    SELECT team_id, batch_index, batch_hash, message_id, error FROM outbox_emails
    WHERE idempotency_key = ${idempotencyKey} ORDER BY batch_index`;
}
