import type { Queryable } from '../../db/client.ts';

/** Every request from Slack names its workspace; the first one creates the row the rest hang off. */
export async function touchWorkspace(sql: Queryable, teamId: string): Promise<void> {
  await sql`
    INSERT INTO workspaces (team_id) VALUES (${teamId})
    ON CONFLICT (team_id) DO UPDATE SET last_seen_at = now()
    WHERE workspaces.last_seen_at < now() - interval '1 minute'`;
}

export interface AuditEntry {
  teamId: string;
  actorUserId: string;
  action: string;
  subject?: string;
  details?: Record<string, unknown>;
}

export async function recordAudit(sql: Queryable, entry: AuditEntry): Promise<void> {
  await sql`
    INSERT INTO audit_log (team_id, actor_user_id, action, subject, details)
    VALUES (${entry.teamId}, ${entry.actorUserId}, ${entry.action}, ${entry.subject ?? null}, ${sql.json((entry.details ?? {}) as never)})`;
}

export async function listAudit(sql: Queryable, teamId: string, limit = 20) {
  return sql<{ actor_user_id: string; action: string; subject: string | null; details: Record<string, unknown>; created_at: Date }[]>`
    SELECT actor_user_id, action, subject, details, created_at FROM audit_log
    WHERE team_id = ${teamId} ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
}
