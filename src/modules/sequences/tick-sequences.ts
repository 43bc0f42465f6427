import { ZodError } from 'zod';
import type { TransactionSql } from '../../db/client.ts';
import type { Services } from '../../services.ts';
import { enqueueChunksInTransaction } from '../delivery/send-chunk-queue.ts';
import { findSequence } from './queries.ts';
import {
  addStepRecipients,
  claimDueRuns,
  exitRuns,
  moveRuns,
  recordSkippedSteps,
  requeueRows,
  schedulableRuns,
  sendJobsOf,
  type ClaimedRun,
  type RunExit,
  type RunMove,
  type SequenceChunk,
  type StepRecipient,
} from './run-queries.ts';
import { later, rawDue, RECHECK_MS, stepAfter } from './run-schedule.ts';
import { isWindowOpen, windowOpeningFinder, zoneOf } from './send-window.ts';
import type { Sequence, SequenceStep } from './sequence.ts';
import { unmetConditions, type ConditionCheck } from './step-conditions.ts';

/** Runs claimed per transaction: big enough for set-based statements to pay off, small enough to commit often. */
export const TICK_BATCH_SIZE = 2_000;
/** A tick stops taking new batches after this long; the next tick (a minute later at most) goes on. */
const TICK_MAX_MS = 4 * 60_000;
/**
 * A queued email no job claimed in this long lost its job (it came while the sequence was paused) or waits
 * behind a backlog: either way it moves to a new chunk with a job of its own (the old job finds nothing).
 */
const STALE_QUEUED_MS = 60_000;
/**
 * An email claimed for sending this long ago whose batch never settled lost its job (its retries ran
 * out, or the pipeline paused the sequence in the middle): its chunk is queued again, under the same key,
 * every STALE_SENDING_RECHECK_MS. Resend remembers a key for 24 hours: past GIVE_UP_SENDING_MS a resend
 * could mail the lead twice, so the run moves on and the email's fate is what Resend did with it.
 */
const STALE_SENDING_MS = 60 * 60_000;
const STALE_SENDING_RECHECK_MS = 10 * 60_000;
const GIVE_UP_SENDING_MS = 20 * 60 * 60_000;
/** A run claimed a little after its in-window due time (a late tick) still goes out, rather than a day later. */
const LATE_GRACE_MS = 5 * 60_000;

/** A sequence whose stored definition no longer parses: its runs wait (an hour at a time) instead of stopping every tick. */
const UNREADABLE = 'unreadable';
const UNREADABLE_RETRY_MS = 60 * 60_000;

export interface TickSummary {
  claimed: number;
  sent: number;
  skipped: number;
  exited: number;
  completed: number;
  chunks: number;
}

/**
 * The scheduler's tick (`sequences.tick`, every minute and whenever something becomes due at once):
 * hands due steps to delivery, batch after batch, until nothing more is due.
 *
 * Each batch is one transaction: the due runs are claimed with FOR UPDATE SKIP LOCKED (several workers
 * take disjoint runs), exit rules are applied, step conditions evaluated set-based, one ledger row per
 * (run, step) written in chunks per sequence, each run moved to its next step and due time (or towards
 * completion), and the chunks' send jobs inserted through the same transaction: a crash anywhere before
 * the commit leaves every run due as it was, after it every step has its job. No step runs twice (the
 * ledger's unique key), none is lost.
 *
 * A run's next step waits for its previous email to leave the ledger's queue: one the frequency cap
 * deferred goes first, at its time and within the window, so steps keep their order and nobody is sent
 * two at once.
 */
export async function tickSequences(services: Services): Promise<TickSummary> {
  const total: TickSummary = { claimed: 0, sent: 0, skipped: 0, exited: 0, completed: 0, chunks: 0 };
  const started = Date.now();
  for (;;) {
    const batch = await tickBatch(services);
    for (const key of Object.keys(total) as Array<keyof TickSummary>) total[key] += batch[key];
    if (batch.claimed < TICK_BATCH_SIZE || Date.now() - started > TICK_MAX_MS) break;
  }
  if (total.claimed > 0) services.logger.info({ job: 'sequences.tick', ...total }, 'sequence steps handed to delivery');
  return total;
}

type Opening = ReturnType<typeof windowOpeningFinder>;

interface BatchPlan {
  exits: RunExit[];
  moves: RunMove[];
  sends: StepRecipient[];
  skips: Array<StepRecipient & { reason: string }>;
  requeues: Array<{ id: number; team_id: string; sequence_id: number }>;
  /** Chunks whose claimed batch is sent again under its key. */
  resends: SequenceChunk[];
  /** Runs whose next step is to be evaluated now. */
  ready: Array<{ run: ClaimedRun; sequence: Sequence; step: SequenceStep }>;
  /** Runs whose next step was removed under them: found again from the ledger. */
  lost: ClaimedRun[];
  completed: number;
}

async function tickBatch(services: Services): Promise<TickSummary> {
  const now = services.clock.now();
  return services.sql.begin(async (tx) => {
    const runs = await claimDueRuns(tx, now, TICK_BATCH_SIZE);
    if (runs.length === 0) return { claimed: 0, sent: 0, skipped: 0, exited: 0, completed: 0, chunks: 0 };
    const sequences = await sequencesOf(services, tx, runs);
    const opening = windowOpeningFinder();
    const plan: BatchPlan = { exits: [], moves: [], sends: [], skips: [], requeues: [], resends: [], ready: [], lost: [], completed: 0 };
    for (const run of runs) planRun(run, sequences.get(`${run.team_id}:${run.sequence_id}`), now, opening, plan);
    if (plan.lost.length > 0) await findLostSteps(tx, plan.lost, sequences, now, opening, plan);

    const unmet = await unmetConditions(tx, plan.ready.filter(({ step }) => step.condition).map(({ run, step }) => conditionCheck(run, step)), now);
    for (const { run, sequence, step } of plan.ready) takeStep(run, sequence, step, unmet.get(run.id), now, opening, plan);

    const exited = await exitRuns(tx, plan.exits, now);
    const chunks = [...(await addStepRecipients(tx, plan.sends, now)), ...(await requeueRows(tx, plan.requeues, now)), ...uniqueChunks(plan.resends)];
    await recordSkippedSteps(tx, plan.skips, now);
    await moveRuns(tx, plan.moves);
    await enqueueChunksInTransaction(services, tx, sendJobsOf(chunks));
    return { claimed: runs.length, sent: plan.sends.length, skipped: plan.skips.length, exited: exited.length, completed: plan.completed, chunks: chunks.length };
  });
}

async function sequencesOf(services: Services, tx: TransactionSql, runs: readonly ClaimedRun[]): Promise<Map<string, Sequence | typeof UNREADABLE>> {
  const keys = new Map(runs.map((run) => [`${run.team_id}:${run.sequence_id}`, run]));
  const sequences = new Map<string, Sequence | typeof UNREADABLE>();
  for (const [key, run] of keys) {
    try {
      const sequence = await findSequence(tx, run.team_id, run.sequence_id);
      if (sequence) sequences.set(key, sequence);
    } catch (error) {
      if (!(error instanceof ZodError)) throw error;
      services.logger.error({ err: error, teamId: run.team_id, sequenceId: run.sequence_id }, 'a sequence’s stored definition does not parse; its runs wait');
      sequences.set(key, UNREADABLE);
    }
  }
  return sequences;
}

/**
 * What happens to one due run before its step: an exit rule ends it; a paused sequence or a held lead
 * moves it; an email of it still on its way (queued, sending, deferred) goes first; outside the send
 * window it waits for the next opening. Otherwise its step is ready.
 */
function planRun(run: ClaimedRun, sequence: Sequence | typeof UNREADABLE | undefined, now: Date, opening: Opening, plan: BatchPlan): void {
  const stay = (due: Date | null, change: Partial<RunMove> = {}) => {
    plan.moves.push({ ...unchanged(run), due_at: due?.toISOString() ?? null, ...change });
  };
  const exit = (reason: string) => {
    plan.exits.push({ id: run.id, team_id: run.team_id, reason });
  };
  if (sequence === UNREADABLE) return stay(new Date(now.getTime() + UNREADABLE_RETRY_MS));
  if (!sequence || sequence.status === 'archived') return exit('archived');
  if (sequence.status !== 'active') return stay(null);
  if (run.lead_status === null) return exit('erased');
  if (run.lead_status !== 'subscribed') return exit(run.lead_status);
  if (run.lead_stage === 'customer') return exit('customer');
  if (run.goal_reached) return exit('goal');

  const zone = zoneOf(run.lead_zone, run.workspace_zone);
  const window = sequence.sendWindow;
  if (run.held_until) return stay(opening(run.held_until, window, zone));

  switch (run.previous_state) {
    case 'sending': {
      const claimedFor = now.getTime() - (run.previous_sent_at ?? now).getTime();
      if (claimedFor < STALE_SENDING_MS) return stay(new Date(now.getTime() + RECHECK_MS));
      if (claimedFor < GIVE_UP_SENDING_MS) {
        plan.resends.push({ team_id: run.team_id, sequence_id: run.sequence_id, chunk_id: run.previous_chunk_id! });
        return stay(new Date(now.getTime() + STALE_SENDING_RECHECK_MS));
      }
      break;
    }
    case 'queued': {
      const staleAt = run.previous_queued_at!.getTime() + STALE_QUEUED_MS;
      if (staleAt > now.getTime()) return stay(new Date(staleAt));
      // Its job came while the sequence was paused (and left it), or never came: a new chunk and job.
      plan.requeues.push({ id: run.previous_id!, team_id: run.team_id, sequence_id: run.sequence_id });
      return stay(nextDue(run, sequence, run.last_sent_at, now, opening));
    }
    case 'deferred': {
      const notBefore = run.previous_not_before ?? now;
      if (notBefore > now) return stay(opening(notBefore, window, zone));
      if (!isWindowOpen(now, window, zone)) return stay(opening(now, window, zone));
      // Released now: that is when it is handed to delivery, so the next step's delay counts from here.
      plan.requeues.push({ id: run.previous_id!, team_id: run.team_id, sequence_id: run.sequence_id });
      return stay(nextDue(run, sequence, now, now, opening), { last_sent_at: now.toISOString() });
    }
  }

  if (run.next_step_id === null) {
    plan.completed++;
    return stay(null, { status: 'completed', ended_at: now.toISOString() });
  }
  const step = sequence.steps.find((candidate) => candidate.id === run.next_step_id);
  if (!step) {
    plan.lost.push(run);
    return;
  }
  const late = now.getTime() - run.due_at.getTime();
  if (!isWindowOpen(now, window, zone) && !(late <= LATE_GRACE_MS && isWindowOpen(run.due_at, window, zone))) {
    return stay(opening(now, window, zone));
  }
  plan.ready.push({ run, sequence, step });
}

/** The run as it is (moveRuns writes every column it names). */
function unchanged(run: ClaimedRun): RunMove {
  return {
    id: run.id,
    team_id: run.team_id,
    status: 'active',
    next_step_id: run.next_step_id,
    due_at: run.due_at.toISOString(),
    last_step_id: run.last_step_id,
    last_sent_at: run.last_sent_at?.toISOString() ?? null,
    ended_at: null,
  };
}

/** When the run's next step is due, not earlier than a recheck of the email just (re)queued. */
function nextDue(run: ClaimedRun, sequence: Sequence, lastSentAt: Date | null, now: Date, opening: Opening): Date {
  const earliest = new Date(now.getTime() + RECHECK_MS);
  const step = sequence.steps.find((candidate) => candidate.id === run.next_step_id);
  if (!step) return earliest;
  return opening(later(rawDue(step, run.enrolled_at, lastSentAt), earliest), sequence.sendWindow, zoneOf(run.lead_zone, run.workspace_zone));
}

/**
 * The step is sent (a ledger row, handed to delivery) or, when its condition does not hold, skipped (a
 * ledger row that is never sent, with the reason). Either way the run moves to the next live step, due
 * at its delay in the window; after the last one it waits for its email to leave, then completes.
 */
function takeStep(run: ClaimedRun, sequence: Sequence, step: SequenceStep, unmetReason: string | undefined, now: Date, opening: Opening, plan: BatchPlan): void {
  const recipient: StepRecipient = { team_id: run.team_id, sequence_id: run.sequence_id, run_id: run.id, step_id: step.id, lead_id: run.lead_id };
  if (unmetReason) plan.skips.push({ ...recipient, reason: unmetReason });
  else plan.sends.push(recipient);
  const lastStepId = unmetReason ? run.last_step_id : step.id;
  const moved = { ...unchanged(run), last_step_id: lastStepId, last_sent_at: now.toISOString() };
  const next = stepAfter(sequence, step.position);
  if (next) {
    const due = opening(later(rawDue(next, run.enrolled_at, now), now), sequence.sendWindow, zoneOf(run.lead_zone, run.workspace_zone));
    plan.moves.push({ ...moved, next_step_id: next.id, due_at: due.toISOString() });
  } else if (!unmetReason) {
    plan.moves.push({ ...moved, next_step_id: null, due_at: new Date(now.getTime() + RECHECK_MS).toISOString() });
  } else {
    plan.completed++;
    plan.moves.push({ ...moved, status: 'completed', next_step_id: null, due_at: null, ended_at: now.toISOString() });
  }
}

function conditionCheck(run: ClaimedRun, step: SequenceStep): ConditionCheck {
  return {
    runId: run.id,
    teamId: run.team_id,
    leadId: run.lead_id,
    condition: step.condition!,
    leadStage: run.lead_stage,
    previousOpened: run.previous_opened,
    previousClicked: run.previous_clicked,
  };
}

/**
 * Runs whose next step was removed before stepsChanged moved them (a race with the authoring side): the
 * next live step they have not been through, from the ledger. They are already locked by this batch.
 */
async function findLostSteps(tx: TransactionSql, lost: readonly ClaimedRun[], sequences: Map<string, Sequence | typeof UNREADABLE>, now: Date, opening: Opening, plan: BatchPlan): Promise<void> {
  for (const run of lost) {
    const sequence = sequences.get(`${run.team_id}:${run.sequence_id}`) as Sequence;
    const [found] = await schedulableRuns(tx, run.team_id, run.sequence_id, { runId: run.id, lock: false });
    const step = sequence.steps.find((candidate) => candidate.id === found?.next_live_step_id);
    if (step) {
      plan.moves.push({ ...unchanged(run), next_step_id: step.id, due_at: opening(later(rawDue(step, run.enrolled_at, run.last_sent_at), now), sequence.sendWindow, zoneOf(run.lead_zone, run.workspace_zone)).toISOString() });
    } else {
      plan.moves.push({ ...unchanged(run), next_step_id: null, due_at: now.toISOString() });
    }
  }
}

function uniqueChunks(chunks: readonly SequenceChunk[]): SequenceChunk[] {
  return [...new Map(chunks.map((chunk) => [chunk.chunk_id, chunk])).values()];
}

