import type { TransactionSql } from '../../db/client.ts';
import type { Services } from '../../services.ts';
import { audienceIds, findSegmentById } from '../segments/queries.ts';
import { ruleContext } from '../segments/segments.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { findSequence } from './queries.ts';
import { forgetWatchedSequences } from './react-to-events.ts';
import { changeSequenceStatus, chunksInFlight, exitRuns, holdRuns, markAudience, moveRuns, openRunIds, schedulableRuns, sendJobsOf, useCustomPlans } from './run-queries.ts';
import { rescheduledMove } from './run-schedule.ts';
import { ENROLLED_BY_SEGMENT, enrollInto } from './runs.ts';
import { windowOpeningFinder } from './send-window.ts';
import type { Sequence, SequenceStatus } from './sequence.ts';
import { requestTick } from './tick-sequences-queue.ts';
import { enqueueChunksInTransaction } from '../delivery/send-chunk-queue.ts';

export type LifecycleResult = { ok: true; sequence: Sequence; enrolled?: number } | { ok: false; reason: string };

/** Who changes a sequence when no person does (it paused itself). */
export const NURTURE_ACTOR = 'nurture';

export const lifecycleRefusedText = {
  gone: 'That sequence no longer exists.',
  wrongStatus: (name: string, status: SequenceStatus, wanted: string) => `"${name}" is ${status}: ${wanted}.`,
  noSteps: (name: string) => `"${name}" has no steps yet: add one before activating it.`,
  segmentGone: (name: string) => `The segment "${name}" enrolls from no longer exists: pick another trigger.`,
  noPostalAddress: 'Every marketing email carries the workspace’s postal address, and none is set yet: an admin sets it with `/nurture settings`.',
};

type Outcome = { ok: false; reason: string } | { ok: true; enrolled?: number; dueNow?: number };

/**
 * Runs one status change as one transaction: the sequence read, the change guarded in SQL (of two people
 * clicking at once, one wins), what it does to the runs, and the audit entry. Afterwards the event
 * watch of this process is refreshed and a tick asked for when something became due now.
 */
async function change(
  services: Services,
  input: { teamId: string; sequenceId: number },
  work: (tx: TransactionSql, sequence: Sequence, now: Date) => Promise<Outcome>,
): Promise<LifecycleResult> {
  const now = services.clock.now();
  const outcome = await services.sql.begin(async (tx) => {
    const sequence = await findSequence(tx, input.teamId, input.sequenceId);
    if (!sequence) return { ok: false as const, reason: lifecycleRefusedText.gone };
    return work(tx, sequence, now);
  });
  if (!outcome.ok) return outcome;
  forgetWatchedSequences(input.teamId);
  if (outcome.dueNow) await requestTick(services);
  const sequence = await findSequence(services.sql, input.teamId, input.sequenceId);
  if (!sequence) return { ok: false, reason: lifecycleRefusedText.gone };
  return outcome.enrolled === undefined ? { ok: true, sequence } : { ok: true, sequence, enrolled: outcome.enrolled };
}

async function guarded(tx: TransactionSql, sequence: Sequence, from: readonly SequenceStatus[], to: SequenceStatus, userId: string, now: Date): Promise<boolean> {
  return changeSequenceStatus(tx, { teamId: sequence.teamId, sequenceId: sequence.id, from, to, userId, at: now });
}

/**
 * draft → active. A segment-triggered sequence either enrolls the segment's members now (set-based), or
 * records them (activation markers) so that only people who enter the segment later are enrolled.
 */
export async function activateSequence(
  services: Services,
  input: { teamId: string; sequenceId: number; userId: string; enrollCurrentMembers: boolean },
): Promise<LifecycleResult> {
  return change(services, input, async (tx, sequence, now) => {
    if (sequence.status !== 'draft') return { ok: false, reason: lifecycleRefusedText.wrongStatus(sequence.name, sequence.status, 'only a draft can be activated') };
    if (sequence.steps.length === 0) return { ok: false, reason: lifecycleRefusedText.noSteps(sequence.name) };
    if (!(await getWorkspaceSettings(tx, input.teamId)).postalAddress) return { ok: false, reason: lifecycleRefusedText.noPostalAddress };
    const segment = sequence.trigger.kind === 'segment' ? await findSegmentById(tx, input.teamId, sequence.trigger.segmentId) : undefined;
    if (sequence.trigger.kind === 'segment' && !segment) return { ok: false, reason: lifecycleRefusedText.segmentGone(sequence.name) };
    if (!(await guarded(tx, sequence, ['draft'], 'active', input.userId, now))) return { ok: false, reason: lifecycleRefusedText.wrongStatus(sequence.name, sequence.status, 'it changed meanwhile') };

    let enrolled: number | undefined;
    let marked: number | undefined;
    let dueNow = 0;
    if (segment) {
      await useCustomPlans(tx);
      const context = ruleContext(input.teamId, now);
      if (input.enrollCurrentMembers) {
        const counts = await enrollInto(tx, { ...sequence, status: 'active' }, audienceIds(tx, segment.rule, context, { purpose: 'sending' }), {
          enrolledBy: ENROLLED_BY_SEGMENT,
          now,
          honourMarkers: true,
          counts: false,
        });
        enrolled = counts?.enrolled ?? 0;
        dueNow = counts?.dueNow ?? 0;
        await recordAudit(tx, { teamId: input.teamId, actorUserId: input.userId, action: 'sequence.enrolled', subject: String(sequence.id), details: { enrolled, segmentId: segment.id } });
      } else {
        marked = await markAudience(tx, { teamId: input.teamId, sequenceId: sequence.id, at: now }, audienceIds(tx, segment.rule, context, { purpose: 'reporting' }));
      }
    }
    await recordAudit(tx, {
      teamId: input.teamId,
      actorUserId: input.userId,
      action: 'sequence.activated',
      subject: String(sequence.id),
      details: { name: sequence.name, trigger: sequence.trigger.kind, ...(enrolled === undefined ? {} : { enrolled }), ...(marked === undefined ? {} : { currentMembersLeftOut: marked }) },
    });
    return { ok: true, ...(enrolled === undefined ? {} : { enrolled }), dueNow };
  });
}

/** active → paused: every run stays where it is (no due time) until resume; queued emails are held by the source. */
export async function pauseSequence(services: Services, input: { teamId: string; sequenceId: number; userId: string }): Promise<LifecycleResult> {
  return pauseBecause(services, input);
}

/** A pause with its reason in the audit log (the delivery pipeline pausing a sequence that cannot send). */
export async function pauseBecause(services: Services, input: { teamId: string; sequenceId: number; userId: string }, reason?: string): Promise<LifecycleResult> {
  return change(services, input, async (tx, sequence, now) => {
    if (!(await guarded(tx, sequence, ['active'], 'paused', input.userId, now))) return { ok: false, reason: lifecycleRefusedText.wrongStatus(sequence.name, sequence.status, 'only an active sequence can be paused') };
    const held = await holdRuns(tx, input.teamId, sequence.id);
    await recordAudit(tx, { teamId: input.teamId, actorUserId: input.userId, action: 'sequence.paused', subject: String(sequence.id), details: { runsHeld: held, ...(reason ? { reason } : {}) } });
    return { ok: true };
  });
}

/**
 * paused → active: each run's next step is due at its own time but not before now, within the window
 * (one step each, no burst of what was missed; nobody skips one). Emails the pause held go first.
 */
export async function resumeSequence(services: Services, input: { teamId: string; sequenceId: number; userId: string }): Promise<LifecycleResult> {
  return change(services, input, async (tx, sequence, now) => {
    if (!(await guarded(tx, sequence, ['paused'], 'active', input.userId, now))) return { ok: false, reason: lifecycleRefusedText.wrongStatus(sequence.name, sequence.status, 'only a paused sequence can be resumed') };
    const dueNow = await reschedule(tx, { ...sequence, status: 'active' }, now);
    // Batches the pause caught between claim and answer go out again under their key (nobody gets two).
    const inFlight = await chunksInFlight(tx, input.teamId, sequence.id);
    await enqueueChunksInTransaction(services, tx, sendJobsOf(inFlight));
    await recordAudit(tx, { teamId: input.teamId, actorUserId: input.userId, action: 'sequence.resumed', subject: String(sequence.id), details: { dueNow, batchesResent: inFlight.length } });
    return { ok: true, dueNow };
  });
}

/** → archived: unfinished runs end ('archived') and what they had waiting in the ledger is cancelled. */
export async function archiveSequence(services: Services, input: { teamId: string; sequenceId: number; userId: string }): Promise<LifecycleResult> {
  return change(services, input, async (tx, sequence, now) => {
    if (!(await guarded(tx, sequence, ['draft', 'active', 'paused'], 'archived', input.userId, now))) return { ok: false, reason: lifecycleRefusedText.wrongStatus(sequence.name, sequence.status, 'it is archived already') };
    const runIds = await openRunIds(tx, input.teamId, sequence.id);
    const exited = await exitRuns(tx, runIds.map((id) => ({ id, team_id: input.teamId, reason: 'archived' })), now);
    await recordAudit(tx, { teamId: input.teamId, actorUserId: input.userId, action: 'sequence.archived', subject: String(sequence.id), details: { runsEnded: exited.length } });
    return { ok: true };
  });
}

/**
 * After the authoring side added, edited, reordered or removed steps of a sequence that is not a draft:
 * every unfinished run continues after the last step it went through, in the new order, at the next
 * live step it has not been through (so nobody is sent a step twice), due at that step's delay.
 */
export async function stepsChanged(services: Services, input: { teamId: string; sequenceId: number }): Promise<void> {
  const now = services.clock.now();
  const dueNow = await services.sql.begin(async (tx) => {
    const sequence = await findSequence(tx, input.teamId, input.sequenceId);
    if (!sequence || sequence.status === 'draft' || sequence.status === 'archived') return 0;
    return reschedule(tx, sequence, now);
  });
  if (dueNow > 0) await requestTick(services);
}

/** Moves every unfinished run of the sequence to where it stands now; returns how many are due at once. */
export async function reschedule(tx: TransactionSql, sequence: Sequence, now: Date, filter: { leadId?: number } = {}): Promise<number> {
  const opening = windowOpeningFinder();
  const moves = (await schedulableRuns(tx, sequence.teamId, sequence.id, filter)).map((run) => rescheduledMove(run, sequence, now, opening));
  await moveRuns(tx, moves);
  return moves.filter((move) => move.due_at !== null && Date.parse(move.due_at) <= now.getTime()).length;
}
