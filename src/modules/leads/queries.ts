import type { Queryable } from '../../db/client.ts';
import type { LeadInput, LeadStage, LeadStatus } from './lead-input.ts';

export interface LeadRow {
  id: number;
  team_id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  title: string | null;
  industry: string | null;
  stage: LeadStage;
  source: string | null;
  time_zone: string | null;
  locale: string | null;
  owner_user_id: string | null;
  attributes: Record<string, string | number | boolean>;
  status: LeadStatus;
  consent_at: Date | null;
  consent_source: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The shape jsonb_to_recordset reads: one object per lead, keys as the columns below. */
type LeadRecord = Omit<LeadInput, 'owner'> & { owner_user_id?: string };

const toRecords = (leads: readonly LeadInput[]): LeadRecord[] => leads.map(({ owner, ...rest }) => ({ ...rest, owner_user_id: owner }));

export async function findLeadByEmail(sql: Queryable, teamId: string, email: string): Promise<LeadRow | undefined> {
  const [row] = await sql<LeadRow[]>`SELECT * FROM leads WHERE team_id = ${teamId} AND email = ${email}`;
  return row;
}

/**
 * Existing leads among these addresses, by address. One probe of the (team_id, email) unique index per
 * address (LATERAL): a bulk load outruns autovacuum's statistics, and a plan chosen from stale ones
 * would scan the whole workspace for every batch.
 */
export async function existingLeadIds(sql: Queryable, teamId: string, emails: readonly string[]): Promise<Map<string, number>> {
  const rows = await sql<{ id: number; email: string }[]>`
    SELECT l.id, l.email FROM unnest(${emails as string[]}::text[]) AS wanted(email)
    CROSS JOIN LATERAL (SELECT id, email FROM leads WHERE team_id = ${teamId} AND email = wanted.email) AS l`;
  return new Map(rows.map((row) => [row.email, row.id]));
}

/** Most workspaces never erased anyone: then there is nothing to hash and compare. */
export async function hasForgottenEmails(sql: Queryable, teamId: string): Promise<boolean> {
  const [row] = await sql<{ any: boolean }[]>`SELECT EXISTS (SELECT 1 FROM forgotten_emails WHERE team_id = ${teamId}) AS any`;
  return row?.any ?? false;
}

export async function forgottenHashes(sql: Queryable, teamId: string, hashes: readonly Buffer[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await sql<{ email_hash: Buffer }[]>`
    SELECT email_hash FROM forgotten_emails
    WHERE team_id = ${teamId}
      AND email_hash = ANY(SELECT decode(hex, 'hex') FROM unnest(${hashes.map((hash) => hash.toString('hex'))}::text[]) AS hex)`;
  return new Set(rows.map((row) => row.email_hash.toString('hex')));
}

const RECORD_COLUMNS = `email text, first_name text, last_name text, company text, title text, industry text, stage text,
  source text, time_zone text, locale text, owner_user_id text, attributes jsonb, status text, consent_at timestamptz, consent_source text`;

/** Inserts leads that do not exist yet; returns the emails inserted (one that appeared meanwhile is skipped, not overwritten). */
export async function insertLeads(sql: Queryable, teamId: string, leads: readonly LeadInput[], defaultSource: string): Promise<string[]> {
  if (leads.length === 0) return [];
  const rows = await sql<{ email: string }[]>`
    INSERT INTO leads (team_id, email, first_name, last_name, company, title, industry, stage, source, time_zone, locale,
                       owner_user_id, attributes, status, consent_at, consent_source)
    SELECT ${teamId}, x.email, x.first_name, x.last_name, x.company, x.title, x.industry, COALESCE(x.stage, 'awareness'),
           COALESCE(x.source, ${defaultSource}), x.time_zone, x.locale, x.owner_user_id,
           jsonb_strip_nulls(COALESCE(x.attributes, '{}'::jsonb)), COALESCE(x.status, 'subscribed'), x.consent_at, x.consent_source
    FROM jsonb_to_recordset(${sql.json(toRecords(leads) as never)}::jsonb) AS x(${sql.unsafe(RECORD_COLUMNS)})
    ON CONFLICT (team_id, email) DO NOTHING
    RETURNING email`;
  return rows.map((row) => row.email);
}

/**
 * Applies what was given to existing leads: absent fields keep their value, attributes merge (null
 * removes one), status only moves from subscribed to unsubscribed. Rows whose values would not change
 * are not written. Returns how many leads changed.
 */
export async function updateLeads(sql: Queryable, teamId: string, leads: ReadonlyArray<LeadInput & { id: number }>): Promise<number> {
  if (leads.length === 0) return 0;
  const records = leads.map(({ owner, ...rest }) => ({ ...rest, owner_user_id: owner }));
  const rows = await sql`
    WITH x AS (
      SELECT * FROM jsonb_to_recordset(${sql.json(records as never)}::jsonb) AS x(id bigint, ${sql.unsafe(RECORD_COLUMNS)})
    ), proposed AS (
      SELECT l.id,
             COALESCE(x.first_name, l.first_name) AS first_name,
             COALESCE(x.last_name, l.last_name) AS last_name,
             COALESCE(x.company, l.company) AS company,
             COALESCE(x.title, l.title) AS title,
             COALESCE(x.industry, l.industry) AS industry,
             COALESCE(x.stage, l.stage) AS stage,
             COALESCE(x.source, l.source) AS source,
             COALESCE(x.time_zone, l.time_zone) AS time_zone,
             COALESCE(x.locale, l.locale) AS locale,
             COALESCE(x.owner_user_id, l.owner_user_id) AS owner_user_id,
             jsonb_strip_nulls(l.attributes || COALESCE(x.attributes, '{}'::jsonb)) AS attributes,
             CASE WHEN l.status = 'subscribed' AND x.status = 'unsubscribed' THEN 'unsubscribed' ELSE l.status END AS status,
             COALESCE(x.consent_at, l.consent_at) AS consent_at,
             COALESCE(x.consent_source, l.consent_source) AS consent_source
      FROM x CROSS JOIN LATERAL (SELECT * FROM leads WHERE id = x.id AND team_id = ${teamId}) AS l
    )
    UPDATE leads l SET
      first_name = p.first_name, last_name = p.last_name, company = p.company, title = p.title, industry = p.industry,
      stage = p.stage, source = p.source, time_zone = p.time_zone, locale = p.locale, owner_user_id = p.owner_user_id,
      attributes = p.attributes, status = p.status, consent_at = p.consent_at, consent_source = p.consent_source, updated_at = now()
    FROM proposed p
    WHERE l.id = p.id AND l.team_id = ${teamId}
      AND (l.first_name, l.last_name, l.company, l.title, l.industry, l.stage, l.source, l.time_zone, l.locale, l.owner_user_id,
           l.attributes, l.status, l.consent_at, l.consent_source)
          IS DISTINCT FROM
          (p.first_name, p.last_name, p.company, p.title, p.industry, p.stage, p.source, p.time_zone, p.locale, p.owner_user_id,
           p.attributes, p.status, p.consent_at, p.consent_source)
    RETURNING l.id`;
  return rows.length;
}

/** Minimal leads for behaviour from unknown addresses (e.g. a download form); existing ones are left alone. Returns email → id for all. */
export async function ensureLeads(sql: Queryable, teamId: string, emails: readonly string[], source: string): Promise<{ ids: Map<string, number>; created: number }> {
  const inserted = await sql<{ email: string }[]>`
    INSERT INTO leads (team_id, email, source)
    SELECT ${teamId}, email, ${source} FROM unnest(${emails as string[]}::text[]) AS email
    ON CONFLICT (team_id, email) DO NOTHING
    RETURNING email`;
  const rows = await sql<{ id: number; email: string }[]>`
    SELECT id, email FROM leads WHERE team_id = ${teamId} AND email = ANY(${emails as string[]})`;
  return { ids: new Map(rows.map((row) => [row.email, row.id])), created: inserted.length };
}

/** Erases a lead (its events and unsubscribe records go with it, by cascade; its emails in the ledger, here) and remembers only the address's hash. */
export async function eraseLead(sql: Queryable, teamId: string, lead: { id: number; email: string }, emailHash: Buffer, forgottenBy: string): Promise<void> {
  await sql`DELETE FROM leads WHERE team_id = ${teamId} AND id = ${lead.id}`;
  // The send ledger has no foreign key to leads (see migrations/0009_delivery.sql).
  await sql`DELETE FROM email_sends WHERE team_id = ${teamId} AND lead_id = ${lead.id}`;
  // Emails the outbox transport kept instead of sending hold the address and the body.
  await sql`DELETE FROM outbox_emails WHERE team_id = ${teamId} AND to_address = ${lead.email}`;
  // Resend's webhooks about their emails, kept 30 days, name the recipient.
  await sql`
    DELETE FROM resend_webhooks
    WHERE team_id = ${teamId}
      AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(payload -> 'data' -> 'to') = 'array' THEN payload -> 'data' -> 'to' ELSE '[]' END) AS recipient
                  WHERE lower(recipient) = ${lead.email})`;
  await rememberForgotten(sql, teamId, emailHash, forgottenBy);
}

export async function rememberForgotten(sql: Queryable, teamId: string, emailHash: Buffer, forgottenBy: string): Promise<void> {
  await sql`
    INSERT INTO forgotten_emails (team_id, email_hash, forgotten_by) VALUES (${teamId}, ${emailHash}, ${forgottenBy})
    ON CONFLICT DO NOTHING`;
}
