import type { Queryable } from '../../db/client.ts';
import { SENT_STATES } from '../newsletters/queries.ts';
import {
  SendWindowSchema,
  StepConditionSchema,
  TriggerSchema,
  type DelayFrom,
  type SendWindow,
  type Sequence,
  type SequenceStatus,
  type SequenceStep,
  type StepCondition,
  type Trigger,
} from './sequence.ts';

/**
 * SQL about sequence definitions (sequences, sequence_steps): what authors make in Slack. The runs'
 * SQL (enrollment, the tick, holds) is in run-queries.ts.
 */

interface SequenceRow {
  id: number;
  team_id: string;
  name: string;
  goal: string | null;
  goal_event: string | null;
  trigger: unknown;
  send_window: unknown;
  sender_name: string | null;
  reply_to: string | null;
  reenroll_after_days: number | null;
  status: SequenceStatus;
  steps: Array<{ id: number; position: number; template_id: number; delay_minutes: number; delay_from: DelayFrom; condition: unknown }>;
}

/** The JSON columns are parsed again on the way out: what is stored went through the same schemas. */
function sequenceOf(row: SequenceRow): Sequence {
  return {
    id: row.id,
    teamId: row.team_id,
    name: row.name,
    goal: row.goal,
    goalEvent: row.goal_event,
    trigger: TriggerSchema.parse(row.trigger),
    sendWindow: SendWindowSchema.parse(row.send_window),
    senderName: row.sender_name,
    replyTo: row.reply_to,
    reenrollAfterDays: row.reenroll_after_days,
    status: row.status,
    steps: row.steps.map(
      (step): SequenceStep => ({
        id: step.id,
        position: step.position,
        templateId: step.template_id,
        delayMinutes: step.delay_minutes,
        delayFrom: step.delay_from,
        condition: step.condition === null ? null : StepConditionSchema.parse(step.condition),
      }),
    ),
  };
}

/** A sequence with its live steps in order. */
export async function findSequence(sql: Queryable, teamId: string, sequenceId: number): Promise<Sequence | undefined> {
  const [row] = await sql<SequenceRow[]>`
    SELECT q.id, q.team_id, q.name, q.goal, q.goal_event, q.trigger, q.send_window, q.sender_name, q.reply_to,
           q.reenroll_after_days, q.status,
           coalesce((SELECT json_agg(json_build_object('id', s.id, 'position', s.position, 'template_id', s.template_id,
                                                       'delay_minutes', s.delay_minutes, 'delay_from', s.delay_from,
                                                       'condition', s.condition) ORDER BY s.position)
                     FROM sequence_steps s WHERE s.sequence_id = q.id AND s.team_id = q.team_id AND s.removed_at IS NULL), '[]') AS steps
    FROM sequences q
    WHERE q.team_id = ${teamId} AND q.id = ${sequenceId}`;
  return row ? sequenceOf(row) : undefined;
}

/** A sequence as lists and name lookups need it. */
export interface SequenceSummaryRow {
  id: number;
  name: string;
  status: SequenceStatus;
}

/** Every sequence of the workspace, by name (for `list` and for resolving typed names and prefixes). */
export async function listSequenceSummaries(sql: Queryable, teamId: string): Promise<SequenceSummaryRow[]> {
  return sql<SequenceSummaryRow[]>`SELECT id, name, status FROM sequences WHERE team_id = ${teamId} ORDER BY lower(name)`;
}

/** The definition's columns as the builder writes them; the JSON columns hold what the zod schemas accepted. */
export interface SequenceDefinition {
  name: string;
  goal: string | null;
  goalEvent: string | null;
  trigger: Trigger;
  sendWindow: SendWindow;
  senderName: string | null;
  replyTo: string | null;
  reenrollAfterDays: number | null;
}

/** The trigger's segment is kept as a column too: sequences.trigger_segment_id keeps the segment from being deleted. */
const triggerSegmentId = (trigger: Trigger) => (trigger.kind === 'segment' ? trigger.segmentId : null);

/** A new draft; undefined when the workspace already has a sequence of that name. */
export async function insertSequence(sql: Queryable, teamId: string, userId: string, definition: SequenceDefinition): Promise<number | undefined> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO sequences (team_id, name, goal, goal_event, trigger, trigger_segment_id, send_window, sender_name, reply_to,
                           reenroll_after_days, created_by, updated_by)
    VALUES (${teamId}, ${definition.name}, ${definition.goal}, ${definition.goalEvent}, ${sql.json(definition.trigger as never)},
            ${triggerSegmentId(definition.trigger)}, ${sql.json(definition.sendWindow as never)}, ${definition.senderName}, ${definition.replyTo},
            ${definition.reenrollAfterDays}, ${userId}, ${userId})
    ON CONFLICT (team_id, lower(name)) DO NOTHING
    RETURNING id`;
  return row?.id;
}

/** False when the sequence is gone. A name taken by another sequence fails on sequences_name_per_team (checked before). */
export async function updateSequenceDefinition(sql: Queryable, teamId: string, sequenceId: number, userId: string, definition: SequenceDefinition): Promise<boolean> {
  const rows = await sql`
    UPDATE sequences SET name = ${definition.name}, goal = ${definition.goal}, goal_event = ${definition.goalEvent},
      trigger = ${sql.json(definition.trigger as never)}, trigger_segment_id = ${triggerSegmentId(definition.trigger)},
      send_window = ${sql.json(definition.sendWindow as never)}, sender_name = ${definition.senderName}, reply_to = ${definition.replyTo},
      reenroll_after_days = ${definition.reenrollAfterDays}, updated_by = ${userId}, updated_at = now()
    WHERE team_id = ${teamId} AND id = ${sequenceId}
    RETURNING 1`;
  return rows.length > 0;
}

export async function findSequenceIdByName(sql: Queryable, teamId: string, name: string): Promise<number | undefined> {
  const [row] = await sql<{ id: number }[]>`SELECT id FROM sequences WHERE team_id = ${teamId} AND lower(name) = lower(${name})`;
  return row?.id;
}

/**
 * Locks the sequence for a change of its steps (two people editing at once change them one after the
 * other, so positions stay contiguous); undefined when it is gone.
 */
export async function lockSequence(sql: Queryable, teamId: string, sequenceId: number): Promise<{ status: SequenceStatus; name: string } | undefined> {
  const [row] = await sql<{ status: SequenceStatus; name: string }[]>`
    SELECT status, name FROM sequences WHERE team_id = ${teamId} AND id = ${sequenceId} FOR UPDATE`;
  return row;
}

/** What a step is made of, as the builder writes it. */
export interface StepDefinition {
  templateId: number;
  delayMinutes: number;
  delayFrom: DelayFrom;
  condition: StepCondition | null;
}

/** Appends a step after the live ones (the caller holds lockSequence). */
export async function insertStep(sql: Queryable, teamId: string, sequenceId: number, step: StepDefinition): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO sequence_steps (team_id, sequence_id, position, template_id, delay_minutes, delay_from, condition)
    VALUES (${teamId}, ${sequenceId},
            (SELECT coalesce(max(position), 0) + 1 FROM sequence_steps WHERE sequence_id = ${sequenceId} AND removed_at IS NULL),
            ${step.templateId}, ${step.delayMinutes}, ${step.delayFrom}, ${step.condition === null ? null : sql.json(step.condition as never)})
    RETURNING id`;
  return row!.id;
}

/** Changes a live step in place: its id (the ledger's source_step) stays. False when it is gone or removed. */
export async function updateStep(sql: Queryable, teamId: string, sequenceId: number, stepId: number, step: StepDefinition): Promise<boolean> {
  const rows = await sql`
    UPDATE sequence_steps SET template_id = ${step.templateId}, delay_minutes = ${step.delayMinutes}, delay_from = ${step.delayFrom},
      condition = ${step.condition === null ? null : sql.json(step.condition as never)}, updated_at = now()
    WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND id = ${stepId} AND removed_at IS NULL
    RETURNING 1`;
  return rows.length > 0;
}

/** Removed steps keep their row (and their ledger rows keep naming them); only live steps have positions that count. */
export async function markStepRemoved(sql: Queryable, teamId: string, sequenceId: number, stepId: number): Promise<boolean> {
  const rows = await sql`
    UPDATE sequence_steps SET removed_at = now(), updated_at = now()
    WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND id = ${stepId} AND removed_at IS NULL
    RETURNING 1`;
  return rows.length > 0;
}

/** The live steps' ids in order. */
export async function liveStepIds(sql: Queryable, teamId: string, sequenceId: number): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    SELECT id FROM sequence_steps WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND removed_at IS NULL ORDER BY position`;
  return rows.map((row) => row.id);
}

/**
 * Gives the live steps positions 1…n in the given order (the caller holds lockSequence). The unique
 * index on (sequence_id, position) is checked row by row, so a swap in one statement would collide:
 * the steps first move out of the way, then to their places.
 */
export async function renumberSteps(sql: Queryable, teamId: string, sequenceId: number, orderedIds: readonly number[]): Promise<void> {
  await sql`
    UPDATE sequence_steps SET position = position + 1000000
    WHERE team_id = ${teamId} AND sequence_id = ${sequenceId} AND removed_at IS NULL`;
  await sql`
    UPDATE sequence_steps s SET position = o.position, updated_at = now()
    FROM unnest(${sql.array(orderedIds as number[])}::int[]) WITH ORDINALITY AS o(id, position)
    WHERE s.team_id = ${teamId} AND s.sequence_id = ${sequenceId} AND s.id = o.id AND s.removed_at IS NULL`;
}

/** Per step of these sequences: what it sends and how it did. Removed steps are listed only when they sent something. */
export interface StepStatsRow {
  sequence_id: number;
  step_id: number;
  position: number;
  removed: boolean;
  template_name: string;
  template_stage: string;
  /** Ledger rows Resend accepted (or that its webhooks moved on since): the base of the rates. */
  sent: number;
  opened: number;
  clicked: number;
}

export async function stepStats(sql: Queryable, teamId: string, sequenceIds: readonly number[]): Promise<StepStatsRow[]> {
  if (sequenceIds.length === 0) return [];
  const ids = sql.array(sequenceIds as number[]);
  return sql<StepStatsRow[]>`
    SELECT s.sequence_id, s.id AS step_id, s.position, s.removed_at IS NOT NULL AS removed, t.name AS template_name, t.stage AS template_stage,
           coalesce(e.sent, 0)::int AS sent, coalesce(e.opened, 0)::int AS opened, coalesce(e.clicked, 0)::int AS clicked
    FROM sequence_steps s
    JOIN templates t ON t.team_id = s.team_id AND t.id = s.template_id
    LEFT JOIN (
      SELECT source_id, source_step, count(*) AS sent, count(opened_at) AS opened, count(clicked_at) AS clicked
      FROM email_sends
      WHERE team_id = ${teamId} AND source_kind = 'sequence' AND source_id = ANY(${ids}::bigint[]) AND state IN ${sql(SENT_STATES)}
      GROUP BY source_id, source_step
    ) e ON e.source_id = s.sequence_id AND e.source_step = s.id
    WHERE s.team_id = ${teamId} AND s.sequence_id = ANY(${ids}::bigint[]) AND (s.removed_at IS NULL OR e.sent > 0)
    ORDER BY s.sequence_id, s.removed_at IS NOT NULL, s.position, s.id`;
}

/** Leads in each sequence now (unfinished runs). */
export async function activeRunCounts(sql: Queryable, teamId: string, sequenceIds: readonly number[]): Promise<Map<number, number>> {
  if (sequenceIds.length === 0) return new Map();
  const rows = await sql<{ sequence_id: number; count: number }[]>`
    SELECT sequence_id, count(*)::int AS count FROM sequence_runs
    WHERE sequence_id = ANY(${sql.array(sequenceIds as number[])}::bigint[]) AND team_id = ${teamId} AND status = 'active'
    GROUP BY sequence_id`;
  return new Map(rows.map((row) => [row.sequence_id, row.count]));
}

/** Sequences whose trigger is the segment (any status: the foreign key keeps the segment while one names it). */
export async function sequencesOfSegment(sql: Queryable, teamId: string, segmentId: number, limit: number): Promise<SequenceSummaryRow[]> {
  return sql<SequenceSummaryRow[]>`
    SELECT id, name, status FROM sequences WHERE team_id = ${teamId} AND trigger_segment_id = ${segmentId} ORDER BY lower(name) LIMIT ${limit}`;
}
