import type { Fragment } from 'postgres';
import type { Queryable } from '../../db/client.ts';
import type { SourceKind } from './email-source.ts';

/** The most rows one chunk (one job, one batch call) carries: Resend's batch limit. */
export const CHUNK_SIZE = 100;

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
export async function addRecipients(sql: Queryable, source: LedgerSource, audience: Fragment): Promise<{ recipients: number; chunkIds: number[] }> {
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
  return { recipients: rows.reduce((sum, row) => sum + row.recipients, 0), chunkIds: rows.map((row) => row.chunk_id) };
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
