import type { Services } from '../../services.ts';
import { leadIdsAudience } from '../delivery/ledger-queries.ts';
import type { EventRecord } from '../events/queries.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { findSequence } from './queries.ts';
import { reactToEventsQueue } from './react-to-events-queue.ts';
import { exitRuns, runsReachingGoal, watchedSequences } from './run-queries.ts';
import { ENROLLED_BY_EVENT, enrollInto } from './runs.ts';
import { TriggerSchema, type Trigger } from './sequence.ts';
import { requestTick } from './tick-sequences-queue.ts';

/** What event ingest of one workspace looks for, read at most this long ago (a change reaches every process within it). */
const WATCH_TTL_MS = 10_000;

type EventTrigger = Extract<Trigger, { kind: 'event' }>;

interface Watch {
  until: number;
  triggers: Array<{ sequenceId: number; trigger: EventTrigger; activatedAt: Date | null }>;
  goals: Set<string>;
}

const watches = new Map<string, Watch>();

/** A sequence of the workspace changed status here: read what to watch for again at the next event. */
export function forgetWatchedSequences(teamId: string): void {
  watches.delete(teamId);
}

async function watchOf(services: Services, teamId: string, options: { fresh?: boolean } = {}): Promise<Watch> {
  const cached = watches.get(teamId);
  if (cached && cached.until > Date.now() && !options.fresh) return cached;
  const watch: Watch = { until: Date.now() + WATCH_TTL_MS, triggers: [], goals: new Set() };
  for (const sequence of await watchedSequences(services.sql, teamId)) {
    const trigger = TriggerSchema.safeParse(sequence.trigger);
    if (trigger.success && trigger.data.kind === 'event') watch.triggers.push({ sequenceId: sequence.id, trigger: trigger.data, activatedAt: sequence.activatedAt });
    if (sequence.goalEvent) watch.goals.add(sequence.goalEvent);
  }
  watches.set(teamId, watch);
  if (watches.size > 10_000) watches.delete(watches.keys().next().value!);
  return watch;
}

function matches(trigger: EventTrigger, event: Pick<EventRecord, 'name' | 'properties'>): boolean {
  return trigger.name === event.name && Object.entries(trigger.properties).every(([key, value]) => event.properties[key] === value);
}

export interface WatchedEvent {
  leadId: number;
  name: string;
  properties: Record<string, unknown>;
  occurredAt: string;
}

/**
 * The hook after events are stored (record-events.ts): events that start a sequence (its trigger's name
 * and properties) or end a run (a goal event) are handed to the `sequences.react-to-events` queue. Ingest
 * pays one cached lookup per batch, and nothing when the workspace has no such sequence.
 */
export async function reactToEvents(services: Services, teamId: string, events: readonly EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  const watch = await watchOf(services, teamId);
  if (watch.triggers.length === 0 && watch.goals.size === 0) return;
  const watched = events.filter((event) => watch.goals.has(event.name) || watch.triggers.some(({ trigger }) => matches(trigger, event)));
  if (watched.length === 0) return;
  await services.enqueue(reactToEventsQueue, {
    teamId,
    events: watched.map((event) => ({ leadId: event.lead_id, name: event.name, properties: event.properties, occurredAt: event.occurred_at })),
  });
}

/**
 * The queued work: runs whose lead did the goal event after enrolling end ('goal'); leads whose event
 * matches an active sequence's trigger (after it went live) are enrolled, set-based per sequence.
 */
export async function handleWatchedEvents(services: Services, teamId: string, events: readonly WatchedEvent[]): Promise<{ exited: number; enrolled: number }> {
  const now = services.clock.now();
  const exited = await services.sql.begin(async (tx) => {
    const reached = await runsReachingGoal(tx, teamId, events.map((event) => ({ lead_id: event.leadId, name: event.name, occurred_at: event.occurredAt })));
    return exitRuns(tx, reached.map((run) => ({ ...run, reason: 'goal' })), now);
  });
  let enrolled = 0;
  let dueNow = 0;
  // Read afresh: this process's cache may predate the change that made ingest hand these events over.
  for (const watched of (await watchOf(services, teamId, { fresh: true })).triggers) {
    const leadIds = [
      ...new Set(events.filter((event) => matches(watched.trigger, event) && (!watched.activatedAt || Date.parse(event.occurredAt) >= watched.activatedAt.getTime())).map((event) => event.leadId)),
    ];
    if (leadIds.length === 0) continue;
    const counts = await services.sql.begin(async (tx) => {
      const sequence = await findSequence(tx, teamId, watched.sequenceId);
      if (!sequence || sequence.status !== 'active') return undefined;
      const result = await enrollInto(tx, sequence, leadIdsAudience(tx, leadIds), { enrolledBy: ENROLLED_BY_EVENT, now, honourMarkers: false, counts: false });
      if (result && result.enrolled > 0) {
        await recordAudit(tx, { teamId, actorUserId: ENROLLED_BY_EVENT, action: 'sequence.enrolled', subject: String(sequence.id), details: { enrolled: result.enrolled, event: watched.trigger.name } });
      }
      return result;
    });
    enrolled += counts?.enrolled ?? 0;
    dueNow += counts?.dueNow ?? 0;
  }
  if (dueNow > 0) await requestTick(services);
  return { exited: exited.length, enrolled };
}
