import type { RunMove, SchedulableRun } from './run-queries.ts';
import type { Sequence, SequenceStep } from './sequence.ts';
import { zoneOf, type windowOpeningFinder } from './send-window.ts';

/**
 * When a run's next step is due. Delays count from enrollment, or from when the run last moved past a
 * step (last_sent_at: the step was handed to delivery, or skipped because its condition did not hold);
 * the result is then moved into the send window in the lead's zone.
 */

/** A run whose last email is still on its way is looked at again this much later (then it moves on or completes). */
export const RECHECK_MS = 60_000;

type OpeningFinder = ReturnType<typeof windowOpeningFinder>;

/** The step's due time before the send window: its delay after enrollment or after the previous step. */
export function rawDue(step: Pick<SequenceStep, 'delayMinutes' | 'delayFrom'>, enrolledAt: Date, lastSentAt: Date | null): Date {
  const from = step.delayFrom === 'enrollment' || !lastSentAt ? enrolledAt : lastSentAt;
  return new Date(from.getTime() + step.delayMinutes * 60_000);
}

export const later = (a: Date, b: Date) => (a > b ? a : b);

/** The first live step after `position`, or none (the run has been through them all). */
export function stepAfter(sequence: Sequence, position: number): SequenceStep | undefined {
  return sequence.steps.find((step) => step.position > position);
}

/**
 * Where an unfinished run stands after its sequence resumed, its steps changed or its lead's hold was
 * released: the next live step it has not been through, due at that step's time but not before `now`
 * (no burst of what was missed: one step each, and nobody skips one), within the window. A run whose
 * last email is still queued or deferred goes first to the tick, which lets that email go. Runs of a
 * sequence that is not active keep their place without a due time.
 */
export function rescheduledMove(run: SchedulableRun, sequence: Sequence, now: Date, opening: OpeningFinder): RunMove {
  const base = { id: run.id, team_id: run.team_id, status: 'active' as const, last_step_id: run.last_step_id, last_sent_at: run.last_sent_at?.toISOString() ?? null, ended_at: null };
  const nextStepId = run.next_live_step_id;
  if (sequence.status !== 'active') return { ...base, next_step_id: nextStepId, due_at: null };
  const zone = zoneOf(run.lead_zone, run.workspace_zone);
  const pending = run.previous_state === 'queued' || run.previous_state === 'sending' || run.previous_state === 'deferred';
  const step = sequence.steps.find((candidate) => candidate.id === nextStepId);
  let due: Date;
  if (pending) due = opening(later(now, run.previous_not_before ?? now), sequence.sendWindow, zone);
  else if (!step) due = now;
  else due = opening(later(rawDue(step, run.enrolled_at, run.last_sent_at), now), sequence.sendWindow, zone);
  return { ...base, next_step_id: nextStepId, due_at: due.toISOString() };
}
