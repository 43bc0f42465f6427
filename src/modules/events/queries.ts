import type { Queryable } from '../../db/client.ts';

export interface EventRecord {
  lead_id: number;
  kind: 'email' | 'web' | 'custom';
  name: string;
  properties: Record<string, unknown>;
  url_path: string | null;
  dedupe_key: string | null;
  occurred_at: string;
}

/** Inserts events in one statement; a repeated (dedupe_key, occurred_at) is skipped. Returns how many were stored. */
export async function insertEvents(sql: Queryable, teamId: string, source: string, events: readonly EventRecord[]): Promise<number> {
  return (await storeEvents(sql, teamId, source, events)).length;
}

/** insertEvents, returning the events that were stored (a retried delivery's repeats left out): what scoring counts. */
export async function storeEvents(sql: Queryable, teamId: string, source: string, events: readonly EventRecord[]): Promise<EventRecord[]> {
  if (events.length === 0) return [];
  const rows = await sql<{ dedupe_key: string | null; occurred_at: Date }[]>`
    INSERT INTO events (team_id, lead_id, kind, name, properties, url_path, source, dedupe_key, occurred_at)
    SELECT ${teamId}, x.lead_id, x.kind, x.name, x.properties, x.url_path, ${source}, x.dedupe_key, x.occurred_at
    FROM jsonb_to_recordset(${sql.json(events as never)}::jsonb)
      AS x(lead_id bigint, kind text, name text, properties jsonb, url_path text, dedupe_key text, occurred_at timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING dedupe_key, occurred_at`;
  if (rows.length === events.length) return [...events];
  const stored = new Set(rows.filter((row) => row.dedupe_key !== null).map((row) => `${row.dedupe_key} ${row.occurred_at.getTime()}`));
  return events.filter((event) => event.dedupe_key === null || stored.delete(`${event.dedupe_key} ${Date.parse(event.occurred_at)}`));
}

export interface RecentEvent {
  kind: string;
  name: string;
  properties: Record<string, unknown>;
  url_path: string | null;
  occurred_at: Date;
  verdict: string | null;
}

export async function recentEventsOfLead(sql: Queryable, teamId: string, leadId: number, limit: number): Promise<RecentEvent[]> {
  return sql<RecentEvent[]>`
    SELECT kind, name, properties, url_path, occurred_at, verdict FROM events
    WHERE team_id = ${teamId} AND lead_id = ${leadId}
    ORDER BY occurred_at DESC LIMIT ${limit}`;
}

/** Creates next months' partitions ahead of time; returns how many were created. */
export async function ensureEventPartitions(sql: Queryable, monthsAhead: number): Promise<number> {
  const [row] = await sql<{ created: number }[]>`SELECT ensure_event_partitions(date_trunc('month', now())::date, ${monthsAhead}) AS created`;
  return row?.created ?? 0;
}

/** Monthly partitions wholly older than the cutoff month, oldest first. */
export async function partitionsBefore(sql: Queryable, cutoff: Date): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = 'events' AND c.relname ~ '^events_\\d{4}_\\d{2}$'
      AND to_date(substring(c.relname FROM 8), 'YYYY_MM') + interval '1 month' <= date_trunc('month', ${cutoff}::timestamptz)
    ORDER BY c.relname`;
  return rows.map((row) => row.name);
}

export async function dropPartition(sql: Queryable, name: string): Promise<void> {
  if (!/^events_\d{4}_\d{2}$/.test(name)) throw new Error(`refusing to drop ${name}: not an events month`);
  await sql`DROP TABLE ${sql(name)}`;
}

/** Old rows that landed in the default partition (history older than every month) are deleted in small batches. */
export async function deleteDefaultPartitionRowsBefore(sql: Queryable, cutoff: Date): Promise<number> {
  const rows = await sql`
    DELETE FROM events_default WHERE ctid IN (SELECT ctid FROM events_default WHERE occurred_at < ${cutoff} LIMIT 10000) RETURNING 1`;
  return rows.length;
}
