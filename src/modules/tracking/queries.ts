import type { Queryable } from '../../db/client.ts';
import type { SourceKind } from '../delivery/email-source.ts';

/** events.source of what tracking records. */
export const TRACKING_EVENT_SOURCE = 'tracking';

export interface SendSource {
  team_id: string;
  id: number;
  source_kind: SourceKind;
  source_id: number;
  source_step: number;
}

/** The ledger rows of a flush's events, for their labels (one query per flush, not per request). */
export async function sendSources(sql: Queryable, sends: readonly { team_id: string; id: number }[]): Promise<SendSource[]> {
  if (sends.length === 0) return [];
  return sql<SendSource[]>`
    SELECT s.team_id, s.id, s.source_kind, s.source_id, s.source_step
    FROM jsonb_to_recordset(${sql.json(sends as never)}::jsonb) AS x(team_id text, id bigint)
    JOIN email_sends s ON s.team_id = x.team_id AND s.id = x.id`;
}

type TrackingEventName = 'email_opened' | 'email_clicked';

/**
 * A flush's events as Postgres array literals, one per column, written by the writer from pieces it keeps
 * ready (postgres.js's generic array serializer escaped every element of every column: ~2 µs an event;
 * bench/README.md → tracking). Build them with TrackingEventColumnsBuilder.
 */
export interface TrackingEventColumns {
  readonly teamIds: string;
  readonly leadIds: string;
  readonly names: string;
  /** Each element the event's properties as JSON text, quoted and escaped for an array literal. */
  readonly properties: string;
  /** Milliseconds since the epoch. */
  readonly occurredAt: string;
  readonly verdicts: string;
  readonly verdictReasons: string;
  readonly count: number;
}

/**
 * One statement for a flush, across workspaces, its columns as arrays (unnest: no JSON document for
 * Postgres to parse first). Events of a lead erased since the email went out are dropped (the join): the
 * lead's events are gone with it. Returns how many were stored.
 */
export async function insertTrackingEvents(sql: Queryable, events: TrackingEventColumns): Promise<number> {
  if (events.count === 0) return 0;
  const rows = await sql`
    INSERT INTO events (team_id, lead_id, kind, name, properties, source, occurred_at, verdict, verdict_reason)
    SELECT x.team_id, x.lead_id, 'email', x.name, x.properties::jsonb, ${TRACKING_EVENT_SOURCE},
           timestamptz 'epoch' + x.occurred_ms * interval '1 millisecond', x.verdict, x.verdict_reason
    FROM unnest(${events.teamIds}::text[], ${events.leadIds}::bigint[], ${events.names}::text[], ${events.properties}::text[],
                ${events.occurredAt}::bigint[], ${events.verdicts}::text[], ${events.verdictReasons}::text[])
      AS x(team_id, lead_id, name, properties, occurred_ms, verdict, verdict_reason)
    JOIN leads l ON l.id = x.lead_id AND l.team_id = x.team_id`;
  return rows.count;
}

/** An array literal's element: quoted, with `"` and `\` escaped (Postgres array input syntax). */
function arrayElement(text: string): string {
  return `"${text.replace(ARRAY_SPECIAL, '\\$&')}"`;
}
const ARRAY_SPECIAL = /["\\]/g;

/** What a stored open or click contributes to the columns (the tracking writer's buffered event). */
interface ColumnsEvent {
  teamId: string;
  leadId: number;
  name: TrackingEventName;
  url: string | undefined;
  occurredAt: Date;
  verdict: { verdict: 'human' | 'machine'; reason: string | null };
}

/**
 * A flush's columns as Postgres array literals (insertTrackingEvents), put together from pieces escaped
 * once: a ledger row's properties start (the writer keeps it per row), a link's url, a team id, a reason.
 */
export class TrackingEventColumnsBuilder {
  readonly #teamIds: string[] = [];
  readonly #leadIds: number[] = [];
  readonly #names: string[] = [];
  readonly #properties: string[] = [];
  readonly #occurredAt: number[] = [];
  readonly #verdicts: string[] = [];
  readonly #reasons: string[] = [];

  /** `propertiesStart` is escaped already (escapeArrayText). */
  add(event: ColumnsEvent, propertiesStart: string): void {
    this.#teamIds.push(cachedElement(event.teamId));
    this.#leadIds.push(event.leadId);
    this.#names.push(event.name);
    this.#properties.push(`"${propertiesStart}${event.url === undefined ? '' : urlProperty(event.url)}}"`);
    this.#occurredAt.push(event.occurredAt.getTime());
    this.#verdicts.push(event.verdict.verdict);
    this.#reasons.push(event.verdict.reason === null ? 'NULL' : cachedElement(event.verdict.reason));
  }

  build(): TrackingEventColumns {
    const literal = (elements: readonly (string | number)[]) => `{${elements.join(',')}}`;
    return {
      teamIds: literal(this.#teamIds),
      leadIds: literal(this.#leadIds),
      names: literal(this.#names),
      properties: literal(this.#properties),
      occurredAt: literal(this.#occurredAt),
      verdicts: literal(this.#verdicts),
      verdictReasons: literal(this.#reasons),
      count: this.#leadIds.length,
    };
  }
}

/** Team ids and reasons: a handful of strings, each escaped once. Bounded. */
const elements = new Map<string, string>();
function cachedElement(text: string): string {
  let element = elements.get(text);
  if (element === undefined) {
    if (elements.size >= ESCAPED_KEPT) elements.clear();
    elements.set(text, (element = arrayElement(text)));
  }
  return element;
}

/** `,"url":"…"` escaped for an array literal, per link address (the same few per email template). Bounded. */
const urlProperties = new Map<string, string>();
function urlProperty(url: string): string {
  let property = urlProperties.get(url);
  if (property === undefined) {
    if (urlProperties.size >= ESCAPED_KEPT) urlProperties.clear();
    urlProperties.set(url, (property = escapeArrayText(`,"url":${JSON.stringify(url)}`)));
  }
  return property;
}
const ESCAPED_KEPT = 10_000;

/** Text escaped for the inside of a quoted array element (arrayElement without its quotes). */
export function escapeArrayText(text: string): string {
  return arrayElement(text).slice(1, -1);
}

export interface FirstActivity {
  team_id: string;
  id: number;
  opened_at: string | null;
  clicked_at: string | null;
}

/** The ledger rows' first human open and click: one statement per flush; an earlier date is kept. */
export async function markSendsActive(sql: Queryable, sends: readonly FirstActivity[]): Promise<void> {
  if (sends.length === 0) return;
  await sql`
    UPDATE email_sends s SET
      opened_at = CASE WHEN x.opened_at IS NOT NULL AND (s.opened_at IS NULL OR x.opened_at < s.opened_at) THEN x.opened_at ELSE s.opened_at END,
      clicked_at = CASE WHEN x.clicked_at IS NOT NULL AND (s.clicked_at IS NULL OR x.clicked_at < s.clicked_at) THEN x.clicked_at ELSE s.clicked_at END,
      updated_at = now()
    FROM jsonb_to_recordset(${sql.json(sends as never)}::jsonb) AS x(team_id text, id bigint, opened_at timestamptz, clicked_at timestamptz)
    WHERE s.team_id = x.team_id AND s.id = x.id
      -- Most events come after the first: rows with nothing earlier to record are not rewritten.
      AND ((x.opened_at IS NOT NULL AND (s.opened_at IS NULL OR x.opened_at < s.opened_at))
        OR (x.clicked_at IS NOT NULL AND (s.clicked_at IS NULL OR x.clicked_at < s.clicked_at)))`;
}

export interface BurstCorrection {
  team_id: string;
  lead_id: number;
  send_id: number;
  /** The burst's clicks, first to last. */
  from: string;
  to: string;
  reason: string;
}

/**
 * Clicks already stored that turned out to be part of a scanner's burst become machine ones, and the
 * ledger forgets a first click the burst gave it (a person's click after it sets it again).
 */
export async function correctBursts(sql: Queryable, bursts: readonly BurstCorrection[]): Promise<void> {
  if (bursts.length === 0) return;
  const json = sql.json(bursts as never);
  await sql`
    UPDATE events e SET verdict = 'machine', verdict_reason = x.reason
    FROM jsonb_to_recordset(${json}::jsonb) AS x(team_id text, lead_id bigint, send_id bigint, "from" timestamptz, "to" timestamptz, reason text)
    WHERE e.lead_id = x.lead_id AND e.team_id = x.team_id AND e.name = 'email_clicked' AND e.source = ${TRACKING_EVENT_SOURCE}
      AND e.occurred_at BETWEEN x."from" AND x."to" AND (e.properties ->> 'send_id')::bigint = x.send_id
      AND e.verdict = 'human'`;
  await sql`
    UPDATE email_sends s SET clicked_at = NULL, updated_at = now()
    FROM jsonb_to_recordset(${json}::jsonb) AS x(team_id text, send_id bigint, "from" timestamptz, "to" timestamptz)
    WHERE s.team_id = x.team_id AND s.id = x.send_id AND s.clicked_at BETWEEN x."from" AND x."to"`;
}

export interface VisitEventRow {
  team_id: string;
  lead_id: number;
  name: 'page_view' | 'page_read';
  properties: Record<string, unknown>;
  url_path: string;
  occurred_at: string;
  verdict: 'human' | 'machine';
  verdict_reason: string | null;
}

/**
 * One statement for a flush of site visits, across workspaces. Visits of a lead erased since its email
 * was clicked are dropped (the join). Returns the rows stored, for scoring.
 */
export async function insertVisitEvents(sql: Queryable, events: readonly VisitEventRow[]): Promise<VisitEventRow[]> {
  if (events.length === 0) return [];
  return sql<VisitEventRow[]>`
    INSERT INTO events (team_id, lead_id, kind, name, properties, url_path, source, occurred_at, verdict, verdict_reason)
    SELECT x.team_id, x.lead_id, 'web', x.name, x.properties, x.url_path, ${TRACKING_EVENT_SOURCE}, x.occurred_at, x.verdict, x.verdict_reason
    FROM jsonb_to_recordset(${sql.json(events as never)}::jsonb)
      AS x(team_id text, lead_id bigint, name text, properties jsonb, url_path text, occurred_at timestamptz, verdict text, verdict_reason text)
    JOIN leads l ON l.id = x.lead_id AND l.team_id = x.team_id
    RETURNING team_id, lead_id, name, properties, url_path, occurred_at, verdict, verdict_reason`;
}
