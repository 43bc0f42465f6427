import type { Queryable } from '../../db/client.ts';
import type { ScoreReason } from './score-reason.ts';

/** The stored model document (parsed by the caller), or undefined: the defaults. */
export async function findScoringModelDocument(sql: Queryable, teamId: string): Promise<unknown> {
  const [row] = await sql<{ model: unknown }[]>`SELECT model FROM scoring_models WHERE team_id = ${teamId}`;
  return row?.model;
}

export async function saveScoringModelDocument(sql: Queryable, teamId: string, model: unknown, userId: string): Promise<void> {
  await sql`
    INSERT INTO workspaces (team_id) VALUES (${teamId}) ON CONFLICT (team_id) DO NOTHING`;
  await sql`
    INSERT INTO scoring_models (team_id, model, updated_by) VALUES (${teamId}, ${sql.json(model as never)}, ${userId})
    ON CONFLICT (team_id) DO UPDATE SET model = EXCLUDED.model, updated_by = EXCLUDED.updated_by, updated_at = now()`;
}

/** What the scorer needs to know about a lead's earlier activity: web events and human email clicks. */
export interface ContextEvent {
  lead_id: number;
  name: string;
  url_path: string | null;
  occurred_at: Date;
}

/**
 * For the whole batch at once: the leads' web events since `webSince` and their email clicks (not
 * machine) since `clickSince`, up to `until`. Read from events_by_lead_time, which covers these columns.
 */
export async function contextEvents(
  sql: Queryable,
  teamId: string,
  leadIds: readonly number[],
  window: { webSince: Date; clickSince: Date; until: Date },
): Promise<ContextEvent[]> {
  if (leadIds.length === 0) return [];
  return sql<ContextEvent[]>`
    SELECT lead_id, name, url_path, occurred_at FROM events
    WHERE lead_id = ANY(${leadIds as number[]}) AND team_id = ${teamId}
      AND occurred_at >= LEAST(${window.webSince}::timestamptz, ${window.clickSince}::timestamptz) AND occurred_at <= ${window.until}
      AND verdict IS DISTINCT FROM 'machine'
      AND ((kind = 'web' AND occurred_at >= ${window.webSince}) OR (name = 'email_clicked' AND occurred_at >= ${window.clickSince}))`;
}

export interface LeadScoreRow {
  lead_id: number;
  score: number;
  scored_at: Date;
  reasons: ScoreReason[];
}

/**
 * Locks the leads' score rows for a read-modify-write, creating empty ones first, in lead order so
 * that two batches touching the same leads queue behind each other instead of deadlocking. Leads of
 * another workspace (or gone) get no row and are left out.
 */
export async function lockLeadScores(sql: Queryable, teamId: string, leadIds: readonly number[], now: Date): Promise<LeadScoreRow[]> {
  await sql`
    INSERT INTO lead_scores (lead_id, team_id, score, scored_at)
    SELECT id, team_id, 0, ${now} FROM leads WHERE id = ANY(${leadIds as number[]}) AND team_id = ${teamId}
    ORDER BY id
    ON CONFLICT (lead_id) DO NOTHING`;
  return sql<LeadScoreRow[]>`
    SELECT lead_id, score, scored_at, reasons FROM lead_scores
    WHERE lead_id = ANY(${leadIds as number[]}) AND team_id = ${teamId}
    ORDER BY lead_id FOR UPDATE`;
}

export async function writeLeadScores(sql: Queryable, teamId: string, rows: ReadonlyArray<{ lead_id: number; score: number; scored_at: string; reasons: ScoreReason[] }>): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    UPDATE lead_scores s SET score = x.score, scored_at = x.scored_at, reasons = x.reasons
    FROM jsonb_to_recordset(${sql.json(rows as never)}::jsonb) AS x(lead_id bigint, score double precision, scored_at timestamptz, reasons jsonb)
    WHERE s.lead_id = x.lead_id AND s.team_id = ${teamId}`;
}

export async function findLeadScore(sql: Queryable, teamId: string, leadId: number): Promise<LeadScoreRow | undefined> {
  const [row] = await sql<LeadScoreRow[]>`
    SELECT lead_id, score, scored_at, reasons FROM lead_scores WHERE lead_id = ${leadId} AND team_id = ${teamId}`;
  return row;
}
