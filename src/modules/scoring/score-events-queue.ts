import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import type { EventRecord } from '../events/queries.ts';
import { requestAlertPosts } from '../alerts/post-alerts-queue.ts';
import { raiseAlerts, type RaisedAlert } from '../alerts/raise-alerts.ts';
import { TokenBytesReader, TokenBytesWriter } from '../../lib/signed-token.ts';
import { scoreEvents, type ScorableEvent } from './score-events.ts';

/** The properties scoring reads (score-events.ts); the rest of an event stays out of the job. */
const SCORED_PROPERTIES = ['seconds', 'url', 'link_text'] as const;

const ScoredPropertiesSchema = z.record(z.string(), z.union([z.string(), z.number()]));

/** At most one API batch (record-events.ts MAX_EVENTS_PER_BATCH) or one tracking hand-over per job. */
const MAX_EVENTS_PER_JOB = 1000;
/** Three varints of at most 8 bytes (safe integers) per event, in base64url. */
const MAX_PACKED_TRIPLES_LENGTH = Math.ceil((MAX_EVENTS_PER_JOB * 3 * 8 * 4) / 3);

/** Events as the API stored them, one object each. */
const ListedEventsSchema = z.object({
  teamId: z.string().min(1),
  events: z
    .array(
      z.object({
        leadId: z.number().int().positive(),
        kind: z.enum(['email', 'web', 'custom']),
        name: z.string().min(1).max(64),
        urlPath: z.string().nullable(),
        properties: ScoredPropertiesSchema,
        occurredAt: z.string().min(1),
        verdict: z.enum(['human', 'machine']).nullable(),
      }),
    )
    .min(1)
    .max(MAX_EVENTS_PER_JOB),
});

/**
 * People's opens, clicks and visits as the tracking writers hand them over, packed: what varies little
 * (name, page, link) once per distinct "shape", then a flat list of (lead id, shape, milliseconds after
 * `at`) triples. A flush of 600 clicks on one link is ~8 kB instead of ~115 kB of objects, which Postgres
 * stores and the app validates on the redirect's hot path (bench/README.md → tracking).
 */
const PackedEventsObject = z.object({
  teamId: z.string().min(1),
  at: z.number().int().nonnegative(),
  shapes: z
    .array(z.object({ kind: z.enum(['email', 'web']), name: z.string().min(1).max(64), urlPath: z.string().nullable(), properties: ScoredPropertiesSchema }))
    .min(1)
    .max(MAX_EVENTS_PER_JOB),
  triples: z.array(z.number().int().nonnegative()).min(3).max(3 * MAX_EVENTS_PER_JOB),
});
const PackedEventsSchema = PackedEventsObject.refine(
  ({ triples, shapes }) => triples.length % 3 === 0 && triples.every((value, i) => i % 3 !== 1 || value < shapes.length),
  'triples of (lead, shape index, offset)',
);

/**
 * What the tracking writers hand over now: the same, the triples as varints (TokenBytesWriter's LEB128)
 * in one base64url string, ~11 characters an event. One string is what zod checks on the redirect's hot
 * path and what Postgres parses into the job's jsonb, instead of 3,000 numbers (bench/README.md →
 * tracking). Jobs packed with the numbers (above) are still read.
 */
const BinaryPackedEventsSchema = z
  .object({
    teamId: z.string().min(1),
    at: z.number().int().nonnegative(),
    shapes: PackedEventsObject.shape.shapes,
    triples: z.string().min(4).max(MAX_PACKED_TRIPLES_LENGTH).regex(/^[A-Za-z0-9_-]+$/),
  })
  .refine(({ triples, shapes }) => readTriples(triples, shapes.length) !== undefined, 'varint triples of (lead, shape index, offset)');

export const ScoreEventsPayloadSchema = z.union([BinaryPackedEventsSchema, ListedEventsSchema, PackedEventsSchema]);
type ScoreEventsPayload = z.infer<typeof ScoreEventsPayloadSchema>;

/**
 * Scoring off the ingest path: a batch of up to 1,000 events is one job, picked up at once (notify), and
 * hot-lead alerts are raised in the same transaction, so an alert follows the visit within milliseconds.
 */
export const scoreEventsQueue = defineQueue({
  name: 'scoring.score-events',
  payload: ScoreEventsPayloadSchema,
  queue: { notify: true, retryLimit: 5, retryDelay: 2, retryBackoff: true, expireInSeconds: 300, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 4, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 5 },
  handle: async (payload, { services }) => {
    const { teamId } = payload;
    const events = 'events' in payload ? payload.events : unpack(payload);
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

/** The hook after the tracking writers stored people's opens, clicks and visits (startNurture wires it): one packed job. */
export async function enqueueTrackedScoring(services: Services, teamId: string, events: readonly ScorableEvent[]): Promise<void> {
  if (events.length === 0) return;
  await services.enqueue(scoreEventsQueue, pack(teamId, events));
}

/** Human events only (the writers hand over nothing else); see PackedEventsSchema. */
function pack(teamId: string, events: readonly ScorableEvent[]): ScoreEventsPayload {
  const times = events.map((event) => (event.occurredAt instanceof Date ? event.occurredAt.getTime() : Date.parse(event.occurredAt)));
  const at = Math.min(...times);
  const shapes: Array<{ kind: 'email' | 'web'; name: string; urlPath: string | null; properties: Record<string, string | number> }> = [];
  const shapeIndex = new Map<string, number>();
  const triples = new TokenBytesWriter();
  events.forEach((event, i) => {
    // What scoredProperties keeps, typed (5 and '5' are two shapes); its object is made only for a new shape.
    let key = `${event.kind}\u0000${event.name}\u0000${event.urlPath ?? ''}`;
    for (const name of SCORED_PROPERTIES) key += `\u0000${shapeKey(event.properties[name])}`;
    let index = shapeIndex.get(key);
    if (index === undefined) {
      index = shapes.push({ kind: event.kind === 'web' ? 'web' : 'email', name: event.name, urlPath: event.urlPath, properties: scoredProperties(event.properties) }) - 1;
      shapeIndex.set(key, index);
    }
    triples.uint(event.leadId).uint(index).uint(times[i]! - at);
  });
  return { teamId, at, shapes, triples: triples.toBuffer().toString('base64url') };
}

const shapeKey = (value: unknown) => (typeof value === 'string' ? `s${value}` : typeof value === 'number' ? `n${value}` : '');

function unpack(payload: Extract<ScoreEventsPayload, { triples: unknown }>): ScorableEvent[] {
  // The schema checked them: they read.
  const triples = typeof payload.triples === 'string' ? readTriples(payload.triples, payload.shapes.length)! : payload.triples;
  const events: ScorableEvent[] = [];
  for (let i = 0; i < triples.length; i += 3) {
    const shape = payload.shapes[triples[i + 1]!]!;
    events.push({ ...shape, leadId: triples[i]!, occurredAt: new Date(payload.at + triples[i + 2]!), verdict: 'human' });
  }
  return events;
}

/** Varint triples (pack) back as numbers, or undefined unless each is a lead id, a shape index and an offset, 1 to 1,000 of them. */
function readTriples(base64url: string, shapeCount: number): number[] | undefined {
  const input = new TokenBytesReader(Buffer.from(base64url, 'base64url'));
  const triples: number[] = [];
  while (!input.done) {
    const leadId = input.uint();
    const shape = input.uint();
    const offset = input.uint();
    if (!leadId || shape === undefined || shape >= shapeCount || offset === undefined) return undefined;
    triples.push(leadId, shape, offset);
  }
  return triples.length >= 3 && triples.length <= 3 * MAX_EVENTS_PER_JOB ? triples : undefined;
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
function toScorable(event: EventRecord): z.infer<typeof ListedEventsSchema>['events'][number] & ScorableEvent {
  return { leadId: event.lead_id, kind: event.kind, name: event.name, urlPath: event.url_path, properties: scoredProperties(event.properties), occurredAt: event.occurred_at, verdict: null };
}
