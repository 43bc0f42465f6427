import type { Queryable } from '../../db/client.ts';
import { CHUNK_SIZE, type LedgerState } from '../delivery/ledger-queries.ts';
import { urlPattern, type Fragment } from '../segments/compile-rule.ts';
import type { RunStatus, SequenceStatus } from './sequence.ts';
import type { SendChunkPayload } from '../delivery/send-chunk-queue.ts';

/**
 * SQL about leads' walks through sequences: runs (sequence_runs), nurture holds (lead_nurture_holds)
 * and the sequence rows of the send ledger (email_sends, source_kind 'sequence'). Sequence definitions
 * are in queries.ts. Everything is set-based: a tick, a sweep or an enrollment is a few statements,
 * whatever the number of leads.
 */

/**
 * A run that records "was a member when the sequence was activated without enrolling its members": the
 * segment sweep leaves such leads alone until they leave the segment (the marker goes) and enter again.
 */
export const ACTIVATION_MARKER = 'member_at_activation';

/** Rows a skipped step leaves in the ledger (never sent, never in a chunk job). */
const NO_CHUNK = 0;

// ---- enrollment ----------------------------------------------------------------------------------

export interface Enrollment {
  teamId: string;
  sequenceId: number;
  firstStepId: number;
  enrolledBy: string;
  enrolledAt: Date;
  /** First due time per lead zone (see send-window.ts openingsByZone); null: held (a paused sequence). */
  dues: { zones: string[]; dues: Date[]; fallback: Date } | null;
  /** null: a lead runs through the sequence once; N: again N days after its last run ended. */
  reenrollAfterDays: number | null;
  /** The segment sweep respects activation markers; people enrolling someone by hand do not. */
  honourMarkers: boolean;
}

export interface EnrollmentCounts {
  /** Leads of the workspace among those asked for. */
  candidates: number;
  /** Of them, already in an unfinished run. */
  alreadyIn: number;
  enrolled: number;
  /** Of the new runs, due by `enrolledAt`: the tick should look now. */
  dueNow: number;
}

/**
 * Enrolls the leads of `audience` (a fragment selecting `lead_id`) in one INSERT … SELECT: subscribed,
 * not customers, without an unfinished run, and allowed by the re-enrollment policy. The partial unique
 * index makes a concurrent enrollment of the same lead a no-op. `counts: false` skips counting the
 * candidates (the sweep over a large segment only needs how many were enrolled).
 */
export async function enrollAudience(sql: Queryable, enrollment: Enrollment, audience: Fragment, options: { counts: boolean }): Promise<EnrollmentCounts> {
  const { teamId, sequenceId, enrolledAt } = enrollment;
  const dues = enrollment.dues;
  const reenroll = enrollment.reenrollAfterDays;
  const [row] = await sql<EnrollmentCounts[]>`
    WITH audience AS MATERIALIZED (
      SELECT DISTINCT a.lead_id FROM (${audience}) AS a
    ),
    candidates AS MATERIALIZED (
      SELECT l.id, l.time_zone, l.status, l.stage FROM audience a JOIN leads l ON l.id = a.lead_id AND l.team_id = ${teamId}
    ),
    zone_dues AS (
      SELECT * FROM unnest(${dues?.zones ?? []}::text[], ${(dues?.dues ?? []).map((due) => due.toISOString())}::timestamptz[]) AS z(zone, due)
    ),
    inserted AS (
      INSERT INTO sequence_runs (team_id, sequence_id, lead_id, enrolled_by, enrolled_at, next_step_id, due_at)
      SELECT ${teamId}, ${sequenceId}, c.id, ${enrollment.enrolledBy}, ${enrolledAt}, ${enrollment.firstStepId},
             ${dues ? sql`coalesce(z.due, ${dues.fallback}::timestamptz)` : sql`NULL::timestamptz`}
      FROM candidates c LEFT JOIN zone_dues z ON z.zone = c.time_zone
      WHERE c.status = 'subscribed' AND c.stage <> 'customer'
        AND NOT EXISTS (
          SELECT 1 FROM sequence_runs p
          WHERE p.sequence_id = ${sequenceId} AND p.lead_id = c.id AND p.team_id = ${teamId}
            AND (p.status = 'active'
                 OR (p.exit_reason = ${ACTIVATION_MARKER} AND ${enrollment.honourMarkers})
                 OR (p.exit_reason IS DISTINCT FROM ${ACTIVATION_MARKER}
                     AND (${reenroll}::int IS NULL OR p.ended_at > ${enrolledAt}::timestamptz - make_interval(days => ${reenroll ?? 0})))))
      ON CONFLICT DO NOTHING
      RETURNING due_at
    )
    SELECT ${options.counts ? sql`(SELECT count(*) FROM candidates)::int` : sql`0`} AS candidates,
           ${options.counts
             ? sql`(SELECT count(*) FROM candidates c JOIN sequence_runs o ON o.sequence_id = ${sequenceId} AND o.lead_id = c.id AND o.status = 'active')::int`
             : sql`0`} AS "alreadyIn",
           (SELECT count(*) FROM inserted)::int AS enrolled,
           (SELECT count(*) FROM inserted WHERE due_at <= ${enrolledAt})::int AS "dueNow"`;
  return row!;
}

/** Records today's members as not to be enrolled (activation without enrolling them): marker runs, ended at once. */
export async function markAudience(sql: Queryable, marker: { teamId: string; sequenceId: number; at: Date }, audience: Fragment): Promise<number> {
  const rows = await sql`
    INSERT INTO sequence_runs (team_id, sequence_id, lead_id, status, exit_reason, enrolled_by, enrolled_at, ended_at)
    SELECT ${marker.teamId}, ${marker.sequenceId}, a.lead_id, 'exited', ${ACTIVATION_MARKER}, 'activation', ${marker.at}, ${marker.at}
    FROM (SELECT DISTINCT lead_id FROM (${audience}) AS members) AS a
    JOIN leads l ON l.id = a.lead_id AND l.team_id = ${marker.teamId}`;
  return rows.count;
}

/** Markers of leads no longer in the audience go: when they enter again, they are new members. */
export async function dropLeftMarkers(sql: Queryable, marker: { teamId: string; sequenceId: number }, audience: Fragment): Promise<number> {
  const rows = await sql`
    DELETE FROM sequence_runs r
    WHERE r.team_id = ${marker.teamId} AND r.sequence_id = ${marker.sequenceId} AND r.exit_reason = ${ACTIVATION_MARKER}
      AND NOT EXISTS (SELECT 1 FROM (${audience}) AS members WHERE members.lead_id = r.lead_id)`;
  return rows.count;
}

/** When the segment sweep last enrolled for the sequence (shown on its card). */
export async function markSwept(sql: Queryable, teamId: string, sequenceId: number, at: Date): Promise<void> {
  await sql`UPDATE sequences SET swept_at = ${at} WHERE team_id = ${teamId} AND id = ${sequenceId}`;
}

/**
 * Audience statements are planned for their actual values (the segment's rule, the workspace): after a
 * few runs of one shape Postgres may switch to a generic plan made without them (see segments/queries.ts).
 */
export async function useCustomPlans(tx: Queryable): Promise<void> {
  await tx`SELECT set_config('plan_cache_mode', 'force_custom_plan', true)`;
}

/** Whether the sequence has activation markers (only then does the sweep look for leavers). */
export async function hasMarkers(sql: Queryable, teamId: string, sequenceId: number): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM sequence_runs WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND exit_reason = ${ACTIVATION_MARKER}) AS found`;
  return row!.found;
}

// ---- sequences the runtime works on --------------------------------------------------------------

/**
 * Guarded status change: only from the statuses given, so of two people clicking at once one wins. Going
 * (back) to active starts a new failure streak: a resumed sequence gets FAILURE_STREAK_LIMIT fresh tries.
 */
export async function changeSequenceStatus(
  sql: Queryable,
  change: { teamId: string; sequenceId: number; from: readonly SequenceStatus[]; to: SequenceStatus; userId: string; at: Date },
): Promise<boolean> {
  const rows = await sql`
    UPDATE sequences SET status = ${change.to}, updated_by = ${change.userId}, updated_at = now(),
      activated_at = CASE WHEN ${change.to} = 'active' AND activated_at IS NULL THEN ${change.at}::timestamptz ELSE activated_at END,
      paused_at = CASE WHEN ${change.to} = 'paused' THEN ${change.at}::timestamptz ELSE paused_at END,
      failure_streak = CASE WHEN ${change.to} = 'active' THEN 0 ELSE failure_streak END
    WHERE team_id = ${change.teamId} AND id = ${change.sequenceId} AND status = ANY(${change.from as SequenceStatus[]}::text[])`;
  return rows.count > 0;
}

/**
 * Keeps the sequence's failure streak after a chunk settled: a failed batch adds one, a sent one resets it
 * (written only when the streak is not 0 already, so the common case writes nothing). Returns the streak;
 * undefined when a failure was recorded for a sequence that no longer exists.
 */
export async function recordSequenceChunkResult(sql: Queryable, teamId: string, sequenceId: number, failed: boolean): Promise<number | undefined> {
  const [row] = await sql<{ failure_streak: number }[]>`
    UPDATE sequences SET failure_streak = ${failed ? sql`failure_streak + 1` : 0}
    WHERE team_id = ${teamId} AND id = ${sequenceId} AND (${failed} OR failure_streak <> 0)
    RETURNING failure_streak`;
  return row?.failure_streak ?? (failed ? undefined : 0);
}

/** Who made the sequence and when it went live: the DM on a self-pause, and event triggers' cut-off. */
export async function sequenceFacts(sql: Queryable, teamId: string, sequenceId: number): Promise<{ createdBy: string; activatedAt: Date | null } | undefined> {
  const [row] = await sql<{ createdBy: string; activatedAt: Date | null }[]>`
    SELECT created_by AS "createdBy", activated_at AS "activatedAt" FROM sequences WHERE team_id = ${teamId} AND id = ${sequenceId}`;
  return row;
}

/** Active sequences that enroll from a segment, across workspaces (the sweep). */
export async function activeSegmentSequences(sql: Queryable): Promise<Array<{ teamId: string; sequenceId: number }>> {
  return sql<Array<{ teamId: string; sequenceId: number }>>`
    SELECT team_id AS "teamId", id AS "sequenceId" FROM sequences
    WHERE status = 'active' AND trigger ->> 'kind' = 'segment' ORDER BY team_id, id`;
}

export interface WatchedSequence {
  id: number;
  trigger: unknown;
  goalEvent: string | null;
  activatedAt: Date | null;
}

/** A workspace's active sequences with an event trigger or a goal event: what event ingest looks for. */
export async function watchedSequences(sql: Queryable, teamId: string): Promise<WatchedSequence[]> {
  return sql<WatchedSequence[]>`
    SELECT id, trigger, goal_event AS "goalEvent", activated_at AS "activatedAt" FROM sequences
    WHERE team_id = ${teamId} AND status = 'active' AND (trigger ->> 'kind' = 'event' OR goal_event IS NOT NULL)`;
}

/** What the sequence source needs to send: status, sender, reply-to and the workspace's footer. */
export interface SendingSequence {
  status: SequenceStatus;
  name: string;
  senderName: string | null;
  replyTo: string | null;
  createdBy: string;
}

export async function sendingSequence(sql: Queryable, teamId: string, sequenceId: number): Promise<SendingSequence | undefined> {
  const [row] = await sql<SendingSequence[]>`
    SELECT status, name, sender_name AS "senderName", reply_to AS "replyTo", created_by AS "createdBy"
    FROM sequences WHERE team_id = ${teamId} AND id = ${sequenceId}`;
  return row;
}

/** The templates of a sequence's live steps, without their bodies: the source compiles only what changed. */
export async function stepTemplates(sql: Queryable, teamId: string, sequenceId: number): Promise<Array<{ stepId: number; templateId: number; updatedAt: Date }>> {
  return sql<Array<{ stepId: number; templateId: number; updatedAt: Date }>>`
    SELECT s.id AS "stepId", t.id AS "templateId", t.updated_at AS "updatedAt"
    FROM sequence_steps s JOIN templates t ON t.id = s.template_id AND t.team_id = s.team_id
    WHERE s.team_id = ${teamId} AND s.sequence_id = ${sequenceId} AND s.removed_at IS NULL`;
}

/** Names for the events about a step's emails: the sequence's and the step's template's (removed steps too). */
export async function stepLabels(sql: Queryable, teamId: string, sequenceId: number, stepId: number): Promise<{ sequence: string; template: string | null } | undefined> {
  const [row] = await sql<{ sequence: string; template: string | null }[]>`
    SELECT q.name AS sequence, t.name AS template
    FROM sequences q
    LEFT JOIN sequence_steps s ON s.id = ${stepId} AND s.sequence_id = q.id AND s.team_id = q.team_id
    LEFT JOIN templates t ON t.id = s.template_id AND t.team_id = q.team_id
    WHERE q.team_id = ${teamId} AND q.id = ${sequenceId}`;
  return row;
}

// ---- the tick ------------------------------------------------------------------------------------

/** A due run as the tick sees it: the run, its lead, a hold, and the ledger row of the last step it was sent. */
export interface ClaimedRun {
  id: number;
  team_id: string;
  sequence_id: number;
  lead_id: number;
  next_step_id: number | null;
  enrolled_at: Date;
  last_step_id: number | null;
  last_sent_at: Date | null;
  due_at: Date;
  /** null: the lead is gone. */
  lead_status: 'subscribed' | 'unsubscribed' | 'bounced' | 'complained' | null;
  lead_stage: string | null;
  lead_zone: string | null;
  workspace_zone: string;
  /** Set while a human is on the lead. */
  held_until: Date | null;
  previous_id: number | null;
  previous_state: LedgerState | null;
  previous_not_before: Date | null;
  previous_queued_at: Date | null;
  /** When the row was claimed for sending (it counts toward the cap from then). */
  previous_sent_at: Date | null;
  previous_chunk_id: number | null;
  previous_opened: boolean;
  previous_clicked: boolean;
  goal_reached: boolean;
}

/**
 * Claims up to `limit` runs due by `now`, oldest first, locked until the transaction ends; runs another
 * worker holds are skipped (each worker takes its own). The goal check reads the lead's events since
 * enrollment through events_by_lead_time.
 */
export async function claimDueRuns(sql: Queryable, now: Date, limit: number): Promise<ClaimedRun[]> {
  return sql<ClaimedRun[]>`
    WITH claimed AS (
      SELECT id FROM sequence_runs
      WHERE status = 'active' AND due_at <= ${now}
      ORDER BY due_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    SELECT r.id, r.team_id, r.sequence_id, r.lead_id, r.next_step_id, r.enrolled_at, r.last_step_id, r.last_sent_at, r.due_at,
           l.status AS lead_status, l.stage AS lead_stage, l.time_zone AS lead_zone, w.time_zone AS workspace_zone,
           h.held_until,
           p.id AS previous_id, p.state AS previous_state, p.not_before AS previous_not_before, p.queued_at AS previous_queued_at,
           p.sent_at AS previous_sent_at, p.chunk_id AS previous_chunk_id, p.opened_at IS NOT NULL AS previous_opened, p.clicked_at IS NOT NULL AS previous_clicked,
           (q.goal_event IS NOT NULL AND EXISTS (
              SELECT 1 FROM events e
              WHERE e.lead_id = r.lead_id AND e.team_id = r.team_id AND e.name = q.goal_event
                AND e.occurred_at >= r.enrolled_at AND e.occurred_at <= ${now} AND e.verdict IS DISTINCT FROM 'machine')) AS goal_reached
    FROM claimed c
    JOIN sequence_runs r ON r.id = c.id
    JOIN sequences q ON q.id = r.sequence_id AND q.team_id = r.team_id
    JOIN workspaces w ON w.team_id = r.team_id
    LEFT JOIN leads l ON l.id = r.lead_id AND l.team_id = r.team_id
    LEFT JOIN lead_nurture_holds h ON h.lead_id = r.lead_id AND h.team_id = r.team_id AND h.held_until > ${now}
    LEFT JOIN email_sends p ON p.team_id = r.team_id AND p.source_kind = 'sequence' AND p.source_id = r.sequence_id
                           AND p.run_id = r.id AND p.source_step = r.last_step_id AND p.lead_id = r.lead_id
    ORDER BY r.due_at, r.id`;
}

/** Leads (of one workspace) that visited a page matching the pattern in the `days` before `now`, people only. */
export async function leadsThatVisited(sql: Queryable, teamId: string, leadIds: readonly number[], visit: { url: string; days: number }, now: Date): Promise<Set<number>> {
  const rows = await sql<{ lead_id: number }[]>`
    SELECT DISTINCT e.lead_id FROM events e
    WHERE e.lead_id = ANY(${leadIds as number[]}::bigint[]) AND e.team_id = ${teamId} AND e.kind = 'web'
      AND e.url_path LIKE ${urlPattern(visit.url)}
      AND e.occurred_at >= ${now}::timestamptz - make_interval(days => ${visit.days}) AND e.occurred_at <= ${now}
      AND e.verdict IS DISTINCT FROM 'machine'`;
  return new Set(rows.map((row) => row.lead_id));
}

export interface StepRecipient {
  team_id: string;
  sequence_id: number;
  run_id: number;
  step_id: number;
  lead_id: number;
}

export interface SequenceChunk {
  team_id: string;
  sequence_id: number;
  chunk_id: number;
}

/** The send jobs of sequence chunks (enqueueChunksInTransaction). */
export const sendJobsOf = (chunks: readonly SequenceChunk[]): SendChunkPayload[] =>
  chunks.map((chunk) => ({ teamId: chunk.team_id, chunkId: chunk.chunk_id, sourceKind: 'sequence', sourceId: chunk.sequence_id }));

/**
 * Hands steps to delivery: one queued ledger row per (run, step), in chunks of up to CHUNK_SIZE rows of
 * one sequence, in one statement. The ledger's unique key (team, 'sequence', sequence, run, step, lead)
 * makes a repeat a no-op: no step is written twice. Returns the new chunks (enqueue a job each).
 */
export async function addStepRecipients(sql: Queryable, recipients: readonly StepRecipient[], now: Date): Promise<SequenceChunk[]> {
  if (recipients.length === 0) return [];
  return sql<SequenceChunk[]>`
    WITH input AS (
      SELECT x.*, (row_number() OVER (PARTITION BY x.team_id, x.sequence_id ORDER BY x.lead_id, x.run_id) - 1) / ${CHUNK_SIZE} AS n
      FROM jsonb_to_recordset(${sql.json(recipients as never)}::jsonb) AS x(team_id text, sequence_id bigint, run_id bigint, step_id int, lead_id bigint)
    ),
    chunks AS (
      SELECT team_id, sequence_id, n, nextval('email_chunk_ids') AS chunk_id FROM (SELECT DISTINCT team_id, sequence_id, n FROM input) AS numbers
    ),
    inserted AS (
      INSERT INTO email_sends (team_id, lead_id, source_kind, source_id, run_id, source_step, chunk_id, queued_at)
      SELECT i.team_id, i.lead_id, 'sequence', i.sequence_id, i.run_id, i.step_id, c.chunk_id, ${now}
      FROM input i JOIN chunks c USING (team_id, sequence_id, n)
      ORDER BY c.chunk_id, i.lead_id
      ON CONFLICT DO NOTHING
      RETURNING team_id, source_id, chunk_id
    )
    SELECT DISTINCT team_id, source_id AS sequence_id, chunk_id FROM inserted ORDER BY chunk_id`;
}

/**
 * The trace of steps whose condition did not hold: a ledger row that was never sent (cancelled, the
 * reason says which condition), so the step's stats count it and the run's history shows it.
 */
export async function recordSkippedSteps(sql: Queryable, skipped: ReadonlyArray<StepRecipient & { reason: string }>, now: Date): Promise<void> {
  if (skipped.length === 0) return;
  await sql`
    INSERT INTO email_sends (team_id, lead_id, source_kind, source_id, run_id, source_step, chunk_id, state, reason, queued_at)
    SELECT x.team_id, x.lead_id, 'sequence', x.sequence_id, x.run_id, x.step_id, ${NO_CHUNK}, 'cancelled', x.reason, ${now}
    FROM jsonb_to_recordset(${sql.json(skipped as never)}::jsonb) AS x(team_id text, sequence_id bigint, run_id bigint, step_id int, lead_id bigint, reason text)
    ON CONFLICT DO NOTHING`;
}

/**
 * Puts ledger rows back in the queue under new chunks: deferred rows whose time came, and queued rows
 * whose job is gone (their sequence was paused when it ran). Rows a chunk job claimed meanwhile are left
 * alone, and the old chunk's job, should it still come, finds nothing: nobody gets the step twice.
 */
export async function requeueRows(sql: Queryable, rows: ReadonlyArray<{ id: number; team_id: string; sequence_id: number }>, now: Date): Promise<SequenceChunk[]> {
  if (rows.length === 0) return [];
  return sql<SequenceChunk[]>`
    WITH input AS (
      SELECT x.*, (row_number() OVER (PARTITION BY x.team_id, x.sequence_id ORDER BY x.id) - 1) / ${CHUNK_SIZE} AS n
      FROM jsonb_to_recordset(${sql.json(rows as never)}::jsonb) AS x(id bigint, team_id text, sequence_id bigint)
    ),
    chunks AS (
      SELECT team_id, sequence_id, n, nextval('email_chunk_ids') AS chunk_id FROM (SELECT DISTINCT team_id, sequence_id, n FROM input) AS numbers
    ),
    moved AS (
      UPDATE email_sends s
      SET state = 'queued', chunk_id = c.chunk_id, queued_at = ${now}, not_before = NULL, reason = NULL, updated_at = now()
      FROM input i JOIN chunks c USING (team_id, sequence_id, n)
      WHERE s.id = i.id AND s.team_id = i.team_id AND s.source_kind = 'sequence' AND s.source_id = i.sequence_id
        AND s.state IN ('queued', 'deferred')
      RETURNING s.team_id, s.source_id, s.chunk_id
    )
    SELECT DISTINCT team_id, source_id AS sequence_id, chunk_id FROM moved ORDER BY chunk_id`;
}

/** Where each run goes next (the tick's and rescheduling's outcome), in one statement. */
export interface RunMove {
  id: number;
  team_id: string;
  status: Extract<RunStatus, 'active' | 'completed'>;
  next_step_id: number | null;
  due_at: string | null;
  last_step_id: number | null;
  last_sent_at: string | null;
  ended_at: string | null;
}

export async function moveRuns(sql: Queryable, moves: readonly RunMove[]): Promise<void> {
  if (moves.length === 0) return;
  await sql`
    UPDATE sequence_runs r
    SET status = x.status, next_step_id = x.next_step_id, due_at = x.due_at, last_step_id = x.last_step_id,
        last_sent_at = x.last_sent_at, ended_at = x.ended_at, updated_at = now()
    FROM jsonb_to_recordset(${sql.json(moves as never)}::jsonb)
      AS x(id bigint, team_id text, status text, next_step_id int, due_at timestamptz, last_step_id int, last_sent_at timestamptz, ended_at timestamptz)
    WHERE r.id = x.id AND r.team_id = x.team_id AND r.status = 'active'`;
}

export interface RunExit {
  id: number;
  team_id: string;
  reason: string;
}

/**
 * Ends runs before their last step (exit rules), and cancels what they had waiting in the ledger (queued
 * or deferred): a lead who reached the goal or was removed gets nothing more. Returns the runs ended.
 */
export async function exitRuns(sql: Queryable, exits: readonly RunExit[], now: Date): Promise<Array<{ id: number; team_id: string; sequence_id: number; lead_id: number; reason: string }>> {
  if (exits.length === 0) return [];
  return sql<Array<{ id: number; team_id: string; sequence_id: number; lead_id: number; reason: string }>>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${sql.json(exits as never)}::jsonb) AS x(id bigint, team_id text, reason text)
    ),
    exited AS (
      UPDATE sequence_runs r SET status = 'exited', exit_reason = i.reason, ended_at = ${now}, due_at = NULL, updated_at = now()
      FROM input i
      WHERE r.id = i.id AND r.team_id = i.team_id AND r.status = 'active'
      RETURNING r.id, r.team_id, r.sequence_id, r.lead_id, i.reason
    ),
    -- Not read below: a data-modifying WITH runs to completion all the same.
    cancelled AS (
      UPDATE email_sends s SET state = 'cancelled', reason = 'the run ended: ' || e.reason, updated_at = now()
      FROM exited e
      WHERE s.team_id = e.team_id AND s.source_kind = 'sequence' AND s.source_id = e.sequence_id AND s.run_id = e.id
        AND s.state IN ('queued', 'deferred')
    )
    SELECT id, team_id, sequence_id, lead_id, reason FROM exited`;
}

/** A workspace's unfinished runs of one lead in the sequence (removeLead). */
export async function openRunOf(sql: Queryable, teamId: string, sequenceId: number, leadId: number): Promise<number | undefined> {
  const [row] = await sql<{ id: number }[]>`
    SELECT id FROM sequence_runs WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND lead_id = ${leadId} AND status = 'active'
    FOR UPDATE`;
  return row?.id;
}

/** Unfinished runs whose goal event the lead did after enrolling (events arriving through the API). */
export async function runsReachingGoal(
  sql: Queryable,
  teamId: string,
  events: ReadonlyArray<{ lead_id: number; name: string; occurred_at: string }>,
): Promise<Array<{ id: number; team_id: string }>> {
  if (events.length === 0) return [];
  return sql<Array<{ id: number; team_id: string }>>`
    SELECT DISTINCT r.id, r.team_id
    FROM jsonb_to_recordset(${sql.json(events as never)}::jsonb) AS e(lead_id bigint, name text, occurred_at timestamptz)
    JOIN sequences q ON q.team_id = ${teamId} AND q.goal_event = e.name
    JOIN sequence_runs r ON r.sequence_id = q.id AND r.lead_id = e.lead_id AND r.team_id = ${teamId} AND r.status = 'active'
    WHERE r.enrolled_at <= e.occurred_at`;
}

/**
 * Unfinished runs whose lead can no longer be nurtured: unsubscribed, bounced, complained (Resend's
 * webhooks and the unsubscribe page change the lead), or now a customer. Across workspaces (the sweep).
 */
export async function runsOfUnreachableLeads(sql: Queryable, limit: number): Promise<RunExit[]> {
  return sql<RunExit[]>`
    SELECT r.id, r.team_id, CASE WHEN l.status <> 'subscribed' THEN l.status ELSE 'customer' END AS reason
    FROM sequence_runs r JOIN leads l ON l.id = r.lead_id AND l.team_id = r.team_id
    WHERE r.status = 'active' AND (l.status <> 'subscribed' OR l.stage = 'customer')
    LIMIT ${limit}`;
}

/** Runs of a sequence still going, for archive. */
export async function openRunIds(sql: Queryable, teamId: string, sequenceId: number): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    SELECT id FROM sequence_runs WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND status = 'active' ORDER BY id FOR UPDATE`;
  return rows.map((row) => row.id);
}

/**
 * Chunks of the sequence with rows claimed for sending whose batch call never settled: the pipeline
 * paused the sequence in the middle (Resend refused every call), or the job gave up. Resending them under
 * their key is safe: Resend answers a batch it already took from its memory of the key.
 */
export async function chunksInFlight(sql: Queryable, teamId: string, sequenceId: number): Promise<SequenceChunk[]> {
  return sql<SequenceChunk[]>`
    SELECT DISTINCT team_id, source_id AS sequence_id, chunk_id FROM email_sends
    WHERE team_id = ${teamId} AND source_kind = 'sequence' AND source_id = ${sequenceId} AND state = 'sending'
    ORDER BY chunk_id`;
}

/** Pausing: every unfinished run of the sequence stops being due; its next step is kept. */
export async function holdRuns(sql: Queryable, teamId: string, sequenceId: number): Promise<number> {
  const rows = await sql`
    UPDATE sequence_runs SET due_at = NULL, updated_at = now()
    WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND status = 'active' AND due_at IS NOT NULL`;
  return rows.count;
}

/** Archiving: what is still waiting in the ledger will not go out (chunk jobs in flight cancel theirs too). */
export async function cancelWaitingRows(sql: Queryable, teamId: string, sequenceId: number, reason: string): Promise<number> {
  const rows = await sql`
    UPDATE email_sends SET state = 'cancelled', reason = ${reason}, updated_at = now()
    WHERE team_id = ${teamId} AND source_kind = 'sequence' AND source_id = ${sequenceId} AND state IN ('queued', 'deferred')`;
  return rows.count;
}

/**
 * The frequency cap deferred some of the sequence's rows: their runs become due when the rows may go
 * (the tick puts them back in the queue then). Only runs waiting on that very row.
 */
export async function pullRunsToDeferredRows(sql: Queryable, teamId: string, sequenceId: number): Promise<number> {
  const rows = await sql`
    UPDATE sequence_runs r SET due_at = s.not_before, updated_at = now()
    FROM email_sends s
    WHERE s.team_id = ${teamId} AND s.source_kind = 'sequence' AND s.source_id = ${sequenceId} AND s.state = 'deferred'
      AND r.id = s.run_id AND r.team_id = ${teamId} AND r.status = 'active' AND r.last_step_id = s.source_step
      AND r.due_at > s.not_before`;
  return rows.count;
}

// ---- rescheduling (resume, steps changed, a hold released) --------------------------------------

/** An unfinished run with what its next due time is computed from; locked until the transaction ends. */
export interface SchedulableRun {
  id: number;
  team_id: string;
  sequence_id: number;
  lead_id: number;
  next_step_id: number | null;
  enrolled_at: Date;
  last_step_id: number | null;
  last_sent_at: Date | null;
  lead_zone: string | null;
  workspace_zone: string;
  previous_state: LedgerState | null;
  previous_not_before: Date | null;
  /** Recomputed from the ledger: the first live step after the last one the run went through that it has not been through. */
  next_live_step_id: number | null;
}

/**
 * A sequence's unfinished runs (or only those of one lead), each with its next live step recomputed
 * from the ledger: the run continues after the last step it went through, in the current order, and a
 * step it went through (sent or skipped) is never its next step again.
 */
export async function schedulableRuns(
  sql: Queryable,
  teamId: string,
  sequenceId: number,
  filter: { leadId?: number; runId?: number; lock?: boolean } = {},
): Promise<SchedulableRun[]> {
  return sql<SchedulableRun[]>`
    WITH live AS (
      SELECT id, position FROM sequence_steps WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND removed_at IS NULL
    ),
    runs AS (
      SELECT r.id, r.team_id, r.sequence_id, r.lead_id, r.next_step_id, r.enrolled_at, r.last_step_id, r.last_sent_at
      FROM sequence_runs r
      WHERE r.team_id = ${teamId} AND r.sequence_id = ${sequenceId} AND r.status = 'active'
        ${filter.leadId === undefined ? sql`` : sql`AND r.lead_id = ${filter.leadId}`}
        ${filter.runId === undefined ? sql`` : sql`AND r.id = ${filter.runId}`}
      ORDER BY r.id
      ${filter.lock === false ? sql`` : sql`FOR UPDATE`}
    ),
    done AS (
      SELECT s.run_id, s.source_step FROM email_sends s
      WHERE s.team_id = ${teamId} AND s.source_kind = 'sequence' AND s.source_id = ${sequenceId} AND s.run_id IN (SELECT id FROM runs)
    ),
    progress AS (
      SELECT r.id, coalesce(max(l.position), 0) AS past
      FROM runs r LEFT JOIN done d ON d.run_id = r.id LEFT JOIN live l ON l.id = d.source_step
      GROUP BY r.id
    )
    SELECT r.*, l.time_zone AS lead_zone, w.time_zone AS workspace_zone,
           p.state AS previous_state, p.not_before AS previous_not_before,
           (SELECT v.id FROM live v
            WHERE v.position > g.past AND NOT EXISTS (SELECT 1 FROM done d WHERE d.run_id = r.id AND d.source_step = v.id)
            ORDER BY v.position LIMIT 1) AS next_live_step_id
    FROM runs r
    JOIN progress g ON g.id = r.id
    JOIN workspaces w ON w.team_id = r.team_id
    LEFT JOIN leads l ON l.id = r.lead_id AND l.team_id = r.team_id
    LEFT JOIN email_sends p ON p.team_id = r.team_id AND p.source_kind = 'sequence' AND p.source_id = r.sequence_id
                           AND p.run_id = r.id AND p.source_step = r.last_step_id AND p.lead_id = r.lead_id
    ORDER BY r.id`;
}

/** The sequences a lead has unfinished runs in (a hold released). */
export async function sequencesWithOpenRuns(sql: Queryable, teamId: string, leadId: number): Promise<number[]> {
  const rows = await sql<{ sequence_id: number }[]>`
    SELECT DISTINCT sequence_id FROM sequence_runs WHERE team_id = ${teamId} AND lead_id = ${leadId} AND status = 'active' ORDER BY sequence_id`;
  return rows.map((row) => row.sequence_id);
}

// ---- nurture holds -------------------------------------------------------------------------------

/** Why rows a hold deferred were deferred (a released hold lets exactly those go). */
export const NURTURE_HELD_REASON = 'nurture held: a person is on this lead';

export async function upsertHold(sql: Queryable, hold: { teamId: string; leadId: number; until: Date; byUserId: string; reason: string }): Promise<boolean> {
  const rows = await sql`
    INSERT INTO lead_nurture_holds (team_id, lead_id, held_until, held_by, reason)
    SELECT ${hold.teamId}, id, ${hold.until}, ${hold.byUserId}, ${hold.reason} FROM leads WHERE team_id = ${hold.teamId} AND id = ${hold.leadId}
    ON CONFLICT (lead_id) DO UPDATE SET held_until = EXCLUDED.held_until, held_by = EXCLUDED.held_by, reason = EXCLUDED.reason, created_at = now()
    WHERE lead_nurture_holds.team_id = EXCLUDED.team_id`;
  return rows.count > 0;
}

/** The workspace's leads held until after `now`: claimed hot leads, a handful at a time. */
export async function heldLeadIds(sql: Queryable, teamId: string, now: Date): Promise<number[]> {
  const rows = await sql<{ lead_id: number }[]>`SELECT lead_id FROM lead_nurture_holds WHERE team_id = ${teamId} AND held_until > ${now}`;
  return rows.map((row) => row.lead_id);
}

export async function deleteHold(sql: Queryable, teamId: string, leadId: number): Promise<boolean> {
  const rows = await sql`DELETE FROM lead_nurture_holds WHERE team_id = ${teamId} AND lead_id = ${leadId}`;
  return rows.count > 0;
}

/**
 * While a person is on the lead, sequence emails queued for it wait until the hold ends (deferred), and
 * the runs they belong to become due then, so the tick lets them go when the hold is over.
 */
export async function deferLeadRows(sql: Queryable, teamId: string, leadId: number, until: Date): Promise<number> {
  const [row] = await sql<{ deferred: number }[]>`
    WITH deferred AS (
      UPDATE email_sends SET state = 'deferred', not_before = ${until}, reason = ${NURTURE_HELD_REASON}, updated_at = now()
      WHERE lead_id = ${leadId} AND team_id = ${teamId} AND source_kind = 'sequence' AND state = 'queued'
      RETURNING run_id, source_step
    ),
    pulled AS (
      UPDATE sequence_runs r SET due_at = least(r.due_at, ${until}::timestamptz), updated_at = now()
      FROM deferred d
      WHERE r.id = d.run_id AND r.team_id = ${teamId} AND r.status = 'active' AND r.last_step_id = d.source_step AND r.due_at IS NOT NULL
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM deferred)::int AS deferred, (SELECT count(*) FROM pulled)::int AS pulled`;
  return row!.deferred;
}

/** The hold is over early: what it deferred may go now (the tick puts the rows back in the queue). */
export async function undeferLeadRows(sql: Queryable, teamId: string, leadId: number, now: Date): Promise<number> {
  const rows = await sql`
    UPDATE email_sends SET not_before = ${now}, updated_at = now()
    WHERE lead_id = ${leadId} AND team_id = ${teamId} AND source_kind = 'sequence' AND state = 'deferred' AND reason = ${NURTURE_HELD_REASON}`;
  return rows.count;
}

// ---- the lead card -------------------------------------------------------------------------------

export interface LeadRunRow {
  sequenceId: number;
  sequenceName: string;
  sequenceStatus: SequenceStatus;
  status: RunStatus;
  exitReason: string | null;
  /** The position of the step it waits for (none when it has been through them all). */
  stepPosition: number | null;
  stepCount: number;
  dueAt: Date | null;
  enrolledAt: Date;
  endedAt: Date | null;
}

/** A lead's runs, newest first (activation markers are bookkeeping, not runs a person would recognise). */
export async function runsOfLead(sql: Queryable, teamId: string, leadId: number, limit: number): Promise<LeadRunRow[]> {
  return sql<LeadRunRow[]>`
    SELECT r.sequence_id AS "sequenceId", q.name AS "sequenceName", q.status AS "sequenceStatus", r.status, r.exit_reason AS "exitReason",
           CASE WHEN r.status <> 'completed' THEN s.position END AS "stepPosition",
           (SELECT count(*) FROM sequence_steps x WHERE x.sequence_id = q.id AND x.team_id = q.team_id AND x.removed_at IS NULL)::int AS "stepCount",
           r.due_at AS "dueAt", r.enrolled_at AS "enrolledAt", r.ended_at AS "endedAt"
    FROM sequence_runs r
    JOIN sequences q ON q.id = r.sequence_id AND q.team_id = r.team_id
    LEFT JOIN sequence_steps s ON s.id = r.next_step_id AND s.removed_at IS NULL
    WHERE r.team_id = ${teamId} AND r.lead_id = ${leadId} AND r.exit_reason IS DISTINCT FROM ${ACTIVATION_MARKER}
    ORDER BY r.enrolled_at DESC, r.id DESC
    LIMIT ${limit}`;
}
