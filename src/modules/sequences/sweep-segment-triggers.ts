import type { Services } from '../../services.ts';
import { audienceIds, findSegmentById } from '../segments/queries.ts';
import { ruleContext } from '../segments/segments.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { findSequence } from './queries.ts';
import { activeSegmentSequences, dropLeftMarkers, exitRuns, hasMarkers, markSwept, runsOfUnreachableLeads, useCustomPlans } from './run-queries.ts';
import { ENROLLED_BY_SEGMENT, enrollInto } from './runs.ts';
import { requestTick } from './tick-sequences-queue.ts';

/** Runs ended per statement by the exit pass (a mass unsubscribe is ended in slices). */
const EXIT_SLICE = 5_000;

/**
 * The segment-entry trigger (`sequences.sweep-segments`, every few minutes): per active sequence that
 * enrolls from a segment, one INSERT … SELECT enrolls the segment's members (as sending sees them:
 * subscribed only) that have no unfinished run and that the re-enrollment policy lets in. Activation
 * markers of leads who left the segment go first, so leaving and entering again counts as entering.
 * Then the exit pass ends runs whose lead unsubscribed, bounced, complained or became a customer since
 * (those signals arrive through webhooks, the unsubscribe page and lead updates; the tick checks them
 * too before every step).
 */
export async function sweepSegmentTriggers(services: Services, only?: { teamId: string; sequenceId: number }): Promise<{ enrolled: number; exited: number }> {
  const targets = only ? [only] : await activeSegmentSequences(services.sql);
  let enrolled = 0;
  for (const target of targets) {
    enrolled += await sweepSequence(services, target).catch((error) => {
      services.logger.error({ err: error, ...target }, 'could not sweep a sequence’s segment');
      return 0;
    });
  }
  const exited = only ? 0 : await exitUnreachableRuns(services);
  if (enrolled > 0 || exited > 0) services.logger.info({ job: 'sequences.sweep-segments', sequences: targets.length, enrolled, exited }, 'sequence segments swept');
  return { enrolled, exited };
}

async function sweepSequence(services: Services, target: { teamId: string; sequenceId: number }): Promise<number> {
  const { teamId, sequenceId } = target;
  const now = services.clock.now();
  const result = await services.sql.begin(async (tx) => {
    const sequence = await findSequence(tx, teamId, sequenceId);
    if (!sequence || sequence.status !== 'active' || sequence.trigger.kind !== 'segment') return undefined;
    const segment = await findSegmentById(tx, teamId, sequence.trigger.segmentId);
    if (!segment) return undefined;
    await useCustomPlans(tx);
    const context = ruleContext(teamId, now);
    if (await hasMarkers(tx, teamId, sequenceId)) {
      await dropLeftMarkers(tx, { teamId, sequenceId }, audienceIds(tx, segment.rule, context, { purpose: 'reporting' }));
    }
    const counts = await enrollInto(tx, sequence, audienceIds(tx, segment.rule, context, { purpose: 'sending' }), {
      enrolledBy: ENROLLED_BY_SEGMENT,
      now,
      honourMarkers: true,
      counts: false,
    });
    await markSwept(tx, teamId, sequenceId, now);
    if (counts && counts.enrolled > 0) {
      await recordAudit(tx, { teamId, actorUserId: ENROLLED_BY_SEGMENT, action: 'sequence.enrolled', subject: String(sequenceId), details: { enrolled: counts.enrolled, segmentId: segment.id } });
    }
    return counts;
  });
  if (result?.dueNow) await requestTick(services);
  return result?.enrolled ?? 0;
}

async function exitUnreachableRuns(services: Services): Promise<number> {
  let exited = 0;
  for (;;) {
    const ended = await services.sql.begin(async (tx) => exitRuns(tx, await runsOfUnreachableLeads(tx, EXIT_SLICE), services.clock.now()));
    exited += ended.length;
    if (ended.length < EXIT_SLICE) return exited;
  }
}
