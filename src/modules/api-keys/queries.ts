import type { Queryable } from '../../db/client.ts';

export interface ApiKeyRow {
  id: number;
  team_id: string;
  label: string;
  prefix: string;
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
}

export async function insertApiKey(
  sql: Queryable,
  key: { teamId: string; label: string; prefix: string; keyHash: Buffer; createdBy: string },
): Promise<ApiKeyRow | undefined> {
  const [row] = await sql<ApiKeyRow[]>`
    INSERT INTO api_keys (team_id, label, prefix, key_hash, created_by)
    VALUES (${key.teamId}, ${key.label}, ${key.prefix}, ${key.keyHash}, ${key.createdBy})
    ON CONFLICT (team_id, lower(label)) WHERE revoked_at IS NULL DO NOTHING
    RETURNING id, team_id, label, prefix, created_by, created_at, last_used_at`;
  return row;
}

export async function activeApiKeys(sql: Queryable, teamId: string): Promise<ApiKeyRow[]> {
  return sql<ApiKeyRow[]>`
    SELECT id, team_id, label, prefix, created_by, created_at, last_used_at FROM api_keys
    WHERE team_id = ${teamId} AND revoked_at IS NULL ORDER BY created_at`;
}

/** Revokes the active key with this label (case-insensitive) or prefix; returns it, or undefined. */
export async function revokeApiKey(sql: Queryable, teamId: string, labelOrPrefix: string, revokedBy: string): Promise<ApiKeyRow | undefined> {
  const [row] = await sql<ApiKeyRow[]>`
    UPDATE api_keys SET revoked_at = now(), revoked_by = ${revokedBy}
    WHERE team_id = ${teamId} AND revoked_at IS NULL AND (lower(label) = lower(${labelOrPrefix}) OR prefix = ${labelOrPrefix})
    RETURNING id, team_id, label, prefix, created_by, created_at, last_used_at`;
  return row;
}

/** The team an active key belongs to. Marks it used at most once a minute, so busy clients don't write per request. */
export async function teamOfApiKey(sql: Queryable, keyHash: Buffer): Promise<{ id: number; team_id: string } | undefined> {
  const [row] = await sql<{ id: number; team_id: string; stale: boolean }[]>`
    SELECT id, team_id, (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
    FROM api_keys WHERE key_hash = ${keyHash} AND revoked_at IS NULL`;
  if (row?.stale) await sql`UPDATE api_keys SET last_used_at = now() WHERE id = ${row.id}`;
  return row ? { id: row.id, team_id: row.team_id } : undefined;
}
