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

// ---- rate_limiters --------------------------------------------------------------------------------

/** Creates the limiter's row once (full bucket); later starts keep its state. */
export async function ensureRateLimiter(sql: Queryable, name: string, burst: number): Promise<void> {
  await sql`INSERT INTO rate_limiters (name, tokens) VALUES (${name}, ${burst}) ON CONFLICT (name) DO NOTHING`;
}

/**
 * Takes one request from the shared token bucket when it has one and no hold-off is in force. Refill and
 * take happen in one statement on the locked row, so processes never grant the same token twice.
 * `waitSeconds`: how long until a retry can succeed.
 */
export async function takeRateToken(sql: Queryable, name: string, perSecond: number, burst: number): Promise<{ granted: boolean; waitSeconds: number }> {
  const [row] = await sql<{ granted: boolean; wait_seconds: number }[]>`
    WITH current AS (
      SELECT name, blocked_until, now_at,
             least(${burst}::float8, tokens + extract(epoch FROM now_at - refilled_at)::float8 * ${perSecond}) AS available
      FROM (SELECT *, clock_timestamp() AS now_at FROM rate_limiters WHERE name = ${name} FOR UPDATE) AS locked
    ),
    decided AS (
      SELECT *, (blocked_until IS NULL OR blocked_until <= now_at) AND available >= 1 AS granted FROM current
    )
    UPDATE rate_limiters r
    SET tokens = CASE WHEN d.granted THEN d.available - 1 ELSE d.available END, refilled_at = d.now_at
    FROM decided d
    WHERE r.name = d.name
    RETURNING d.granted,
              greatest(coalesce(extract(epoch FROM d.blocked_until - d.now_at)::float8, 0), (1 - d.available) / ${perSecond}, 0) AS wait_seconds`;
  return { granted: row!.granted, waitSeconds: row!.wait_seconds };
}

/** Empties the bucket, and holds everyone back for `seconds` when given (a 429's retry-after). */
export async function holdRateLimiter(sql: Queryable, name: string, seconds: number): Promise<void> {
  await sql`
    UPDATE rate_limiters
    SET tokens = least(tokens, 0), refilled_at = clock_timestamp(),
        blocked_until = greatest(coalesce(blocked_until, clock_timestamp()), clock_timestamp() + make_interval(secs => ${seconds}))
    WHERE name = ${name}`;
}
