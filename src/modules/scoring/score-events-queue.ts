import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import type { EventRecord } from '../events/queries.ts';
import { requestAlertPosts } from '../alerts/post-alerts-queue.ts';
import { raiseAlerts, type RaisedAlert } from '../alerts/raise-alerts.ts';
import { scoreEvents, type ScorableEvent } from './score-events.ts';

/** The properties scoring reads (score-events.ts); the rest of an event stays out of the job. */
const SCORED_PROPERTIES = ['seconds', 'url', 'link_text'] as const;

export const ScoreEventsPayloadSchema = z.object({
  teamId: z.string().min(1),
  events: z
    .array(
      z.object({
        leadId: z.number().int().positive(),
        kind: z.enum(['email', 'web', 'custom']),
        name: z.string().min(1).max(64),
        urlPath: z.string().nullable(),
        properties: z.record(z.string(), z.union([z.string(), z.number()])),
        occurredAt: z.string().min(1),
        verdict: z.enum(['human', 'machine']).nullable(),
      }),
    )
    .min(1)
    // One API batch at most (record-events.ts MAX_EVENTS_PER_BATCH).
    .max(1000),
});

/**
 * Scoring off the ingest path: a batch of up to 1,000 events is one job, picked up at once (notify), and
 * hot-lead alerts are raised in the same transaction, so an alert follows the visit within milliseconds.
 */
export const scoreEventsQueue = defineQueue({
  name: 'scoring.score-events',
  payload: ScoreEventsPayloadSchema,
  queue: { notify: true, retryLimit: 5, retryDelay: 2, retryBackoff: true, expireInSeconds: 300, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 4, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 5 },
  handle: async ({ teamId, events }, { services }) => {
    let raised: RaisedAlert[] = [];
    await scoreEvents(services, teamId, events, {
      inTransaction: async (tx, changes, model) => {
        raised = await raiseAlerts(tx, teamId, changes, { defaultThreshold: model.alertThreshold, now: services.clock.now() });
      },
    });
    // Alerts waiting for quiet hours to end are the minute sweep's; a crash before this line leaves the rest to it too.
    const now = services.clock.now().getTime();
    await requestAlertPosts(services, teamId, raised.filter((alert) => alert.postAfter.getTime() <= now).map((alert) => alert.channelId));
  },
});

/** The hook after API events are stored (record-events.ts): one job for the batch. Pass only the events stored, not duplicates. */
export async function enqueueScoring(services: Services, teamId: string, events: readonly EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  await services.enqueue(scoreEventsQueue, { teamId, events: events.map(toScorable) });
}

/** The hook after tracking stored human opens and clicks (startNurture wires it into the TrackingWriter). */
export async function enqueueTrackedScoring(services: Services, teamId: string, events: readonly ScorableEvent[]): Promise<void> {
  if (events.length === 0) return;
  await services.enqueue(scoreEventsQueue, {
    teamId,
    events: events.map((event) => ({
      leadId: event.leadId,
      kind: event.kind,
      name: event.name,
      urlPath: event.urlPath,
      properties: scoredProperties(event.properties),
      occurredAt: new Date(event.occurredAt).toISOString(),
      verdict: event.verdict ?? null,
    })),
  });
}

function scoredProperties(properties: Record<string, unknown>): Record<string, string | number> {
  const kept: Record<string, string | number> = {};
  for (const name of SCORED_PROPERTIES) {
    const value = properties[name];
    if (typeof value === 'string' || typeof value === 'number') kept[name] = value;
  }
  return kept;
}

/** API events carry no verdict: they come from the customer's own systems and count as a person's. */
function toScorable(event: EventRecord): z.infer<typeof ScoreEventsPayloadSchema>['events'][number] & ScorableEvent {
  return { leadId: event.lead_id, kind: event.kind, name: event.name, urlPath: event.url_path, properties: scoredProperties(event.properties), occurredAt: event.occurred_at, verdict: null };
}
