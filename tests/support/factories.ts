import { randomBytes } from 'node:crypto';
import type { Sql } from '../../src/db/client.ts';

/** Leads and events written straight to the database, with unique random addresses unless given. */
export async function insertLead(sql: Sql, teamId: string, fields: Record<string, unknown> = {}): Promise<{ id: number; email: string }> {
  await sql`INSERT INTO workspaces (team_id) VALUES (${teamId}) ON CONFLICT DO NOTHING`;
  const row = { email: `lead-${randomBytes(5).toString('hex')}@example.com`, ...fields };
  const [lead] = await sql<{ id: number; email: string }[]>`
    INSERT INTO leads ${sql({ team_id: teamId, ...row } as never, ['team_id', ...Object.keys(row)] as never)} RETURNING id, email`;
  return lead!;
}

export async function insertEvent(
  sql: Sql,
  teamId: string,
  leadId: number,
  event: { name: string; kind?: string; properties?: Record<string, unknown>; url_path?: string; occurred_at: Date; verdict?: 'human' | 'machine' },
): Promise<void> {
  await sql`
    INSERT INTO events (team_id, lead_id, kind, name, properties, url_path, source, occurred_at, verdict)
    VALUES (${teamId}, ${leadId}, ${event.kind ?? (event.name === 'page_view' ? 'web' : event.name.startsWith('email_') ? 'email' : 'custom')},
            ${event.name}, ${sql.json((event.properties ?? {}) as never)}, ${event.url_path ?? null}, 'test', ${event.occurred_at}, ${event.verdict ?? null})`;
}

export const daysAgo = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);

/** A send ledger row for the lead, as a newsletter's send would write it (or a sequence step's, with sourceKind 'sequence'). */
export async function insertSend(
  sql: Sql,
  teamId: string,
  leadId: number,
  fields: {
    sourceKind?: 'newsletter' | 'sequence';
    sourceId?: number;
    runId?: number;
    sourceStep?: number;
    state?: string;
    providerId?: string;
    sentAt?: Date;
    openedAt?: Date;
    clickedAt?: Date;
  } = {},
): Promise<{ id: number }> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO email_sends (team_id, lead_id, source_kind, source_id, run_id, source_step, chunk_id, state, provider_id, sent_at, opened_at, clicked_at)
    VALUES (${teamId}, ${leadId}, ${fields.sourceKind ?? 'newsletter'}, ${fields.sourceId ?? 1}, ${fields.runId ?? 0}, ${fields.sourceStep ?? 0},
            nextval('email_chunk_ids'), ${fields.state ?? 'accepted'}, ${fields.providerId ?? null}, ${fields.sentAt ?? new Date()},
            ${fields.openedAt ?? null}, ${fields.clickedAt ?? null})
    RETURNING id`;
  return row!;
}
