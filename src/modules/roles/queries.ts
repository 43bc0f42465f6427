import type { Queryable } from '../../db/client.ts';
import type { NurtureRole } from './roles.ts';

export async function storedRoles(sql: Queryable, teamId: string, userId: string): Promise<NurtureRole[]> {
  const rows = await sql<{ role: NurtureRole }[]>`
    SELECT role FROM workspace_roles WHERE team_id = ${teamId} AND user_id = ${userId} ORDER BY role`;
  return rows.map((row) => row.role);
}

export async function listRoleHolders(sql: Queryable, teamId: string) {
  return sql<{ user_id: string; role: NurtureRole; granted_by: string; granted_at: Date }[]>`
    SELECT user_id, role, granted_by, granted_at FROM workspace_roles
    WHERE team_id = ${teamId} ORDER BY role, granted_at`;
}

/** Returns false when the person already had the role (nothing changed, nothing to audit). */
export async function grantRole(sql: Queryable, teamId: string, userId: string, role: NurtureRole, grantedBy: string): Promise<boolean> {
  const rows = await sql`
    INSERT INTO workspace_roles (team_id, user_id, role, granted_by) VALUES (${teamId}, ${userId}, ${role}, ${grantedBy})
    ON CONFLICT DO NOTHING RETURNING 1`;
  return rows.length > 0;
}

/** Returns false when the person did not have the role. */
export async function revokeRole(sql: Queryable, teamId: string, userId: string, role: NurtureRole): Promise<boolean> {
  const rows = await sql`
    DELETE FROM workspace_roles WHERE team_id = ${teamId} AND user_id = ${userId} AND role = ${role} RETURNING 1`;
  return rows.length > 0;
}

export async function countAdmins(sql: Queryable, teamId: string): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM workspace_roles WHERE team_id = ${teamId} AND role = 'admin'`;
  return row?.count ?? 0;
}
