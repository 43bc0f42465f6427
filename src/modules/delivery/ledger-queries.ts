import type { Fragment } from 'postgres';
import type { Queryable } from '../../db/client.ts';
import type { MergeLead } from '../templates/template.ts';
import type { SourceKind } from './email-source.ts';

/** The most rows one chunk (one job, one batch call) carries: Resend's batch limit. */
export const CHUNK_SIZE = 100;
export const ANALYZE_AFTER_ROWS = 5000;

export interface LedgerSource {
  teamId: string;
  kind: SourceKind;
  id: number;
  /** Sequences: the enrollment. Newsletters: 0. */
  runId?: number;
  /** Sequences: the step. Newsletters: 0. */
  step?: number;
}

/**
 * Writes one ledger row per lead of `audience` (a fragment selecting `lead_id`, e.g. segments'
 * audienceIds) in chunks of CHUNK_SIZE, in one statement. Leads already in the ledger for this source are
 * left alone, so running it twice adds nobody twice. Returns the new chunks; enqueue a send-chunk job
 * for each (after the transaction commits).
 */
export async function addRecipients(
  sql: Queryable,
  source: LedgerSource,
  audience: Fragment,
  /** analyze: refresh the planner's statistics after writing (default: for 5,000 rows or more). */
  options: { analyze?: boolean } = {},
): Promise<{ recipients: number; chunkIds: number[] }> {
  const rows = await sql<{ chunk_id: number; recipients: number }[]>`
    WITH audience AS (
      SELECT lead_id, (row_number() OVER (ORDER BY lead_id) - 1) / ${CHUNK_SIZE} AS n
      FROM (${audience}) AS members
      WHERE NOT EXISTS (
        SELECT 1 FROM email_sends s
        WHERE s.team_id = ${source.teamId} AND s.source_kind = ${source.kind} AND s.source_id = ${source.id}
          AND s.run_id = ${source.runId ?? 0} AND s.source_step = ${source.step ?? 0} AND s.lead_id = members.lead_id)
    ),
    chunks AS (SELECT n, nextval('email_chunk_ids') AS chunk_id FROM (SELECT DISTINCT n FROM audience) AS numbers),
    inserted AS (
      INSERT INTO email_sends (team_id, lead_id, source_kind, source_id, run_id, source_step, chunk_id)
      SELECT ${source.teamId}, a.lead_id, ${source.kind}, ${source.id}, ${source.runId ?? 0}, ${source.step ?? 0}, c.chunk_id
      FROM audience a JOIN chunks c USING (n)
      ORDER BY a.lead_id
      ON CONFLICT DO NOTHING
      RETURNING chunk_id
    )
    SELECT chunk_id, count(*)::int AS recipients FROM inserted GROUP BY chunk_id ORDER BY chunk_id`;
  const recipients = rows.reduce((sum, row) => sum + row.recipients, 0);
  // The chunk jobs start at once, long before autovacuum would notice the new rows: without fresh
  // statistics the planner takes a send's rows for a handful and scans the workspace's whole ledger for
  // every chunk (measured: 10× slower at 100,000 rows). A send written in slices says when (once).
  if (options.analyze ?? recipients >= ANALYZE_AFTER_ROWS) await sql`ANALYZE email_sends`;
  return { recipients, chunkIds: rows.map((row) => row.chunk_id) };
}

/** Lead ids as an audience fragment for addRecipients (a slice of an audience read earlier). */
export function leadIdsAudience(sql: Queryable, leadIds: readonly number[]): Fragment {
  return sql`SELECT unnest(${leadIds as number[]}::bigint[]) AS lead_id`;
}

/** How many ledger rows a source has, whatever their state. */
export async function countRows(sql: Queryable, teamId: string, kind: SourceKind, sourceId: number): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM email_sends WHERE team_id = ${teamId} AND source_kind = ${kind} AND source_id = ${sourceId}`;
  return row!.count;
}

/** Chunks of a source with rows still to send (queued, or claimed but not settled): what a resume re-enqueues. */
export async function pendingChunks(sql: Queryable, teamId: string, kind: SourceKind, sourceId: number): Promise<number[]> {
  const rows = await sql<{ chunk_id: number }[]>`
    SELECT DISTINCT chunk_id FROM email_sends
    WHERE team_id = ${teamId} AND source_kind = ${kind} AND source_id = ${sourceId} AND state IN ('queued', 'sending')
    ORDER BY chunk_id`;
  return rows.map((row) => row.chunk_id);
}

export type LedgerState =
  | 'queued' | 'sending' | 'accepted' | 'delivered' | 'delivery_delayed' | 'bounced' | 'complained'
  | 'failed' | 'suppressed' | 'capped' | 'deferred' | 'cancelled';

/** How many of a source's rows are in each state (states with none are absent). */
export async function countByState(sql: Queryable, teamId: string, kind: SourceKind, sourceId: number): Promise<Partial<Record<LedgerState, number>>> {
  const rows = await sql<{ state: LedgerState; count: number }[]>`
    SELECT state, count(*)::int AS count FROM email_sends
    WHERE team_id = ${teamId} AND source_kind = ${kind} AND source_id = ${sourceId}
    GROUP BY state`;
  return Object.fromEntries(rows.map((row) => [row.state, row.count]));
}

// ---- a chunk's way out (send-chunk.ts) ----------------------------------------------------------

export interface ChunkRow {
  id: number;
  lead_id: number;
  state: 'queued' | 'sending';
  batch_key: string | null;
  source_kind: SourceKind;
  source_id: number;
  run_id: number;
  source_step: number;
  /** When it was claimed (null while queued): the tracking tokens carry it. */
  sent_at: Date | null;
}

/**
 * The chunk's rows still to send, locked until the transaction ends (claims of one chunk take turns),
 * and their leads locked for the frequency cap: two sends reaching one person at the same moment take
 * turns too, so each sees the other's claim. Lead locks are taken in id order (two claims never
 * deadlock), after the row locks, in the same statement: one round trip per chunk fewer. Lock space 1 of
 * the two-key advisory locks is the frequency cap's.
 */
export async function lockChunkRows(sql: Queryable, teamId: string, chunkId: number): Promise<ChunkRow[]> {
  return sql<ChunkRow[]>`
    WITH claimed AS (
      SELECT id, lead_id, state, batch_key, source_kind, source_id, run_id, source_step, sent_at FROM email_sends
      WHERE team_id = ${teamId} AND chunk_id = ${chunkId} AND state IN ('queued', 'sending')
      ORDER BY id
      FOR UPDATE
    ),
    leads_locked AS (
      SELECT count(pg_advisory_xact_lock(1, (lead_id % 2147483647)::int)) AS locks
      FROM (SELECT DISTINCT lead_id FROM claimed ORDER BY 1) AS ordered
    )
    SELECT claimed.* FROM claimed CROSS JOIN leads_locked ORDER BY id`;
}

/** What rendering needs of a lead, and whether it may be mailed. */
export interface SendingLead extends MergeLead {
  status: 'subscribed' | 'unsubscribed' | 'bounced' | 'complained';
}

/** The leads as they are now: suppression is decided at send time, and the email is rendered from this. */
export async function leadsForSending(sql: Queryable, teamId: string, leadIds: readonly number[]): Promise<SendingLead[]> {
  return sql<SendingLead[]>`
    SELECT id, email, first_name, last_name, company, title, industry, stage, attributes, status FROM leads
    WHERE team_id = ${teamId} AND id = ANY(${leadIds as number[]}::bigint[])`;
}

export interface RecentSends {
  lead_id: number;
  last_day: number;
  last_week: number;
  /** The oldest counted email in each window: when it leaves the window, the cap frees a place. */
  oldest_in_day: Date | null;
  oldest_in_week: Date | null;
}

/**
 * Marketing emails the leads were sent (or are being sent) in the 24 hours and 7 days before `now` (the
 * services' clock, so a test's clock moves the windows too); failed ones don't count.
 */
export async function recentSends(sql: Queryable, teamId: string, leadIds: readonly number[], now: Date): Promise<RecentSends[]> {
  return sql<RecentSends[]>`
    SELECT lead_id,
           count(*) FILTER (WHERE sent_at > ${now}::timestamptz - interval '1 day')::int AS last_day,
           count(*)::int AS last_week,
           min(sent_at) FILTER (WHERE sent_at > ${now}::timestamptz - interval '1 day') AS oldest_in_day,
           min(sent_at) AS oldest_in_week
    FROM email_sends
    WHERE team_id = ${teamId} AND lead_id = ANY(${leadIds as number[]}::bigint[])
      AND sent_at > ${now}::timestamptz - interval '7 days' AND sent_at <= ${now} AND state <> 'failed'
    GROUP BY lead_id`;
}

export interface ClaimDecision {
  id: number;
  state: 'sending' | 'suppressed' | 'capped' | 'deferred' | 'failed';
  reason: string | null;
  not_before: string | null;
  batch_key: string | null;
}

/** Records what the claim decided for each row; rows claimed for sending count toward the cap from `now`. */
export async function applyClaimDecisions(sql: Queryable, teamId: string, decisions: readonly ClaimDecision[], now: Date): Promise<void> {
  if (decisions.length === 0) return;
  await sql`
    UPDATE email_sends s
    SET state = x.state, reason = x.reason, not_before = x.not_before, batch_key = x.batch_key,
        sent_at = CASE WHEN x.state = 'sending' THEN ${now}::timestamptz END, updated_at = now()
    FROM jsonb_to_recordset(${sql.json(decisions as never)}::jsonb)
      AS x(id bigint, state text, reason text, not_before timestamptz, batch_key text)
    WHERE s.id = x.id AND s.team_id = ${teamId}`;
}

export interface BatchResult {
  id: number;
  /** The provider's id when it took the email. */
  provider_id: string | null;
  /** Why the provider refused this email for good; null when it took it. */
  error: string | null;
  /** A note on an accepted row, e.g. that the answer was lost. */
  note: string | null;
}

/**
 * Records the provider's answer for a batch. Only rows still claimed under this key change, and a row a
 * webhook already moved on (it can match by our tag before this runs) keeps its state but gains the id.
 */
export async function settleBatch(sql: Queryable, teamId: string, batchKey: string, results: readonly BatchResult[], now: Date): Promise<void> {
  await sql`
    UPDATE email_sends s
    SET state = CASE WHEN s.state <> 'sending' THEN s.state WHEN x.error IS NULL THEN 'accepted' ELSE 'failed' END,
        provider_id = coalesce(s.provider_id, x.provider_id),
        reason = coalesce(x.error, x.note),
        accepted_at = CASE WHEN x.error IS NULL THEN coalesce(s.accepted_at, ${now}::timestamptz) END,
        sent_at = CASE WHEN x.error IS NULL THEN s.sent_at END,
        updated_at = now()
    FROM jsonb_to_recordset(${sql.json(results as never)}::jsonb) AS x(id bigint, provider_id text, error text, note text)
    WHERE s.id = x.id AND s.team_id = ${teamId} AND s.batch_key = ${batchKey}`;
}

/** The send was cancelled: rows not yet handed to the provider will not be. */
/**
 * A lead's rows of one kind of source still waiting for their chunk (a send under way, or paused):
 * cancelled with `reason`. A row its chunk has claimed already goes on. Returns the sources touched.
 */
export async function cancelQueuedRowsOfLead(sql: Queryable, teamId: string, leadId: number, sourceKind: SourceKind, reason: string): Promise<number[]> {
  const rows = await sql<{ source_id: number }[]>`
    UPDATE email_sends SET state = 'cancelled', reason = ${reason}, updated_at = now()
    WHERE team_id = ${teamId} AND lead_id = ${leadId} AND source_kind = ${sourceKind} AND state = 'queued'
    RETURNING source_id`;
  return [...new Set(rows.map((row) => row.source_id))];
}

export async function cancelQueuedRows(sql: Queryable, teamId: string, chunkId: number, reason: string): Promise<number> {
  const rows = await sql`
    UPDATE email_sends SET state = 'cancelled', reason = ${reason}, updated_at = now()
    WHERE team_id = ${teamId} AND chunk_id = ${chunkId} AND state = 'queued'`;
  return rows.count;
}
