import type { Queryable, TransactionSql } from '../../db/client.ts';
import type { Services } from '../../services.ts';
import { leadIdsAudience } from '../delivery/ledger-queries.ts';
import type { Fragment } from '../segments/compile-rule.ts';
import { audienceIds, findSegmentById } from '../segments/queries.ts';
import { ruleContext } from '../segments/segments.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { enrollAudience, exitRuns, openRunOf, runsOfLead, type EnrollmentCounts, type LeadRunRow } from './run-queries.ts';
import { findSequence } from './queries.ts';
import { rawDue } from './run-schedule.ts';
import { LEAD_TIME_ZONES, nextWindowOpening, openingsByZone, zoneOf } from './send-window.ts';
import type { Sequence, SequenceStatus } from './sequence.ts';
import { requestTick } from './tick-sequences-queue.ts';

export type EnrollResult = { ok: true; enrolled: number; alreadyIn: number; ineligible: number } | { ok: false; reason: string };

/** Who enrolled a lead when no person did (sequence_runs.enrolled_by). */
export const ENROLLED_BY_SEGMENT = 'segment';
export const ENROLLED_BY_EVENT = 'event';

export const enrollRefusedText = {
  gone: 'That sequence no longer exists.',
  notRunning: (name: string, status: SequenceStatus) =>
    `"${name}" is ${status}: only an active or paused sequence takes people in.`,
  noSteps: (name: string) => `"${name}" has no steps yet.`,
  segmentGone: 'That segment no longer exists.',
};

/**
 * Enrolls leads by hand (or the authoring side's `enroll` command): the given leads or a segment's
 * members, in one set-based statement. Into an active sequence their first step is due at its delay in
 * the window; into a paused one the runs wait for resume. Not enrolled (ineligible): unsubscribed,
 * bounced or complained leads, customers, and leads the re-enrollment policy keeps out (yet). A lead
 * someone is working on (a nurture hold) is enrolled; its steps wait for the hold to end.
 */
export async function enrollLeads(
  services: Services,
  input: { teamId: string; sequenceId: number; who: { leadIds: number[] } | { segmentId: number }; enrolledBy: string },
): Promise<EnrollResult> {
  const { teamId, sequenceId } = input;
  const now = services.clock.now();
  const result = await services.sql.begin(async (tx): Promise<EnrollResult & { dueNow?: number }> => {
    const sequence = await findSequence(tx, teamId, sequenceId);
    if (!sequence) return { ok: false, reason: enrollRefusedText.gone };
    if (sequence.status !== 'active' && sequence.status !== 'paused') return { ok: false, reason: enrollRefusedText.notRunning(sequence.name, sequence.status) };
    let audience: Fragment;
    if ('leadIds' in input.who) {
      audience = leadIdsAudience(tx, input.who.leadIds);
    } else {
      const segment = await findSegmentById(tx, teamId, input.who.segmentId);
      if (!segment) return { ok: false, reason: enrollRefusedText.segmentGone };
      // Every member, suppressed ones too: they count as not eligible rather than vanish from the numbers.
      audience = audienceIds(tx, segment.rule, ruleContext(teamId, now), { purpose: 'reporting' });
    }
    const counts = await enrollInto(tx, sequence, audience, { enrolledBy: input.enrolledBy, now, honourMarkers: false, counts: true });
    if (!counts) return { ok: false, reason: enrollRefusedText.noSteps(sequence.name) };
    const ineligible = Math.max(0, counts.candidates - counts.alreadyIn - counts.enrolled);
    await recordAudit(tx, {
      teamId,
      actorUserId: input.enrolledBy,
      action: 'sequence.enrolled',
      subject: String(sequenceId),
      details: { enrolled: counts.enrolled, alreadyIn: counts.alreadyIn, ineligible, ...('segmentId' in input.who ? { segmentId: input.who.segmentId } : { leads: input.who.leadIds.length }) },
    });
    return { ok: true, enrolled: counts.enrolled, alreadyIn: counts.alreadyIn, ineligible, dueNow: counts.dueNow };
  });
  if (!result.ok) return result;
  const { dueNow, ...enrolled } = result;
  if (dueNow) await requestTick(services);
  return enrolled;
}

/**
 * Enrolls `audience` into the sequence, inside the caller's transaction: the first step's due time is
 * worked out once per time zone (the same instant in every zone's window) and joined to each lead by
 * its zone. Undefined when the sequence has no steps.
 */
export async function enrollInto(
  tx: TransactionSql,
  sequence: Sequence,
  audience: Fragment,
  options: { enrolledBy: string; now: Date; honourMarkers: boolean; counts: boolean },
): Promise<EnrollmentCounts | undefined> {
  const first = sequence.steps[0];
  if (!first) return undefined;
  const { now } = options;
  let dues = null;
  if (sequence.status === 'active') {
    const workspaceZone = zoneOf(null, (await getWorkspaceSettings(tx, sequence.teamId)).timeZone);
    const due = rawDue(first, now, null);
    dues = { ...openingsByZone(due, sequence.sendWindow, LEAD_TIME_ZONES), fallback: nextWindowOpening(due, sequence.sendWindow, workspaceZone) };
  }
  return enrollAudience(
    tx,
    {
      teamId: sequence.teamId,
      sequenceId: sequence.id,
      firstStepId: first.id,
      enrolledBy: options.enrolledBy,
      enrolledAt: now,
      dues,
      reenrollAfterDays: sequence.reenrollAfterDays,
      honourMarkers: options.honourMarkers,
    },
    audience,
    { counts: options.counts },
  );
}

/** Takes a lead out of a sequence by hand: its run ends ('removed') and what it had waiting is cancelled. */
export async function removeLead(services: Services, input: { teamId: string; sequenceId: number; leadId: number; userId: string }): Promise<boolean> {
  const { teamId, sequenceId, leadId } = input;
  return services.sql.begin(async (tx) => {
    const runId = await openRunOf(tx, teamId, sequenceId, leadId);
    if (runId === undefined) return false;
    await exitRuns(tx, [{ id: runId, team_id: teamId, reason: 'removed' }], services.clock.now());
    await recordAudit(tx, { teamId, actorUserId: input.userId, action: 'sequence.removed', subject: String(sequenceId), details: { leadId, runId } });
    return true;
  });
}

/** A lead's walk through one sequence, as the lead card shows it (stepPosition: the step it waits for). */
export type LeadRun = LeadRunRow;

/** The lead card: the lead's runs, newest first, at most 10. */
export async function leadRuns(sql: Queryable, teamId: string, leadId: number): Promise<LeadRun[]> {
  return runsOfLead(sql, teamId, leadId, 10);
}
