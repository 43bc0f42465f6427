import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '../../db/client.ts';
import { UsageError } from '../../lib/errors.ts';
import { recordAudit, touchWorkspace } from '../workspaces/queries.ts';
import { insertApiKey, revokeApiKey, teamOfApiKey, type ApiKeyRow } from './queries.ts';

/** `nurture_` + 43 base64url characters (256 random bits). The prefix makes leaked keys easy to grep for. */
const KEY_PREFIX = 'nurture_';
const KEY_PATTERN = /^nurture_[A-Za-z0-9_-]{43}$/;

export const hashApiKey = (key: string): Buffer => createHash('sha256').update(key).digest();

/** Creates a key; the key itself is returned once and only its hash is stored. */
export async function createApiKey(sql: Sql, input: { teamId: string; label: string; createdBy: string }): Promise<{ key: string; row: ApiKeyRow }> {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const row = await sql.begin(async (tx) => {
    await touchWorkspace(tx, input.teamId);
    const inserted = await insertApiKey(tx, { ...input, prefix: key.slice(0, KEY_PREFIX.length + 6), keyHash: hashApiKey(key) });
    if (!inserted) throw new UsageError(`There is already an active key labelled "${input.label}". Pick another label, or revoke that one first.`);
    await recordAudit(tx, { teamId: input.teamId, actorUserId: input.createdBy, action: 'apikey.created', subject: inserted.prefix, details: { label: input.label } });
    return inserted;
  });
  return { key, row };
}

export async function revokeKey(sql: Sql, input: { teamId: string; labelOrPrefix: string; revokedBy: string }): Promise<ApiKeyRow | undefined> {
  return sql.begin(async (tx) => {
    const row = await revokeApiKey(tx, input.teamId, input.labelOrPrefix, input.revokedBy);
    if (row) await recordAudit(tx, { teamId: input.teamId, actorUserId: input.revokedBy, action: 'apikey.revoked', subject: row.prefix, details: { label: row.label } });
    return row;
  });
}

/** The workspace a presented key belongs to, or undefined for anything else (malformed, unknown, revoked). */
export async function authenticateApiKey(sql: Sql, presented: string): Promise<{ teamId: string } | undefined> {
  if (!KEY_PATTERN.test(presented)) return undefined;
  const row = await teamOfApiKey(sql, hashApiKey(presented));
  return row ? { teamId: row.team_id } : undefined;
}
