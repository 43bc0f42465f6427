import { z } from 'zod';
import { PermissionDeniedError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { listRoleHolders, storedRoles } from './queries.ts';

export const NURTURE_ROLES = ['admin', 'marketer', 'rep'] as const;
export const NurtureRoleSchema = z.enum(NURTURE_ROLES);
export type NurtureRole = z.infer<typeof NurtureRoleSchema>;

export const ROLE_DESCRIPTIONS: Record<NurtureRole, string> = {
  admin: 'grants roles, manages API keys and settings, and can do everything a marketer can',
  marketer: 'manages leads, segments, templates, sequences and newsletters',
  rep: 'claims hot leads and follows up one-to-one',
};

export interface PersonRoles {
  /** Roles in effect: stored grants, plus admin for Slack workspace owners and admins. */
  roles: NurtureRole[];
  /** True when admin comes from Slack itself (owner/admin), which Nurture cannot revoke. */
  slackAdmin: boolean;
}

/** Reads the person's stored roles and asks Slack whether they are a workspace owner or admin. */
export async function rolesOf(services: Services, teamId: string, userId: string): Promise<PersonRoles> {
  const [stored, slackAdmin] = await Promise.all([storedRoles(services.sql, teamId, userId), isSlackAdmin(services, userId)]);
  const roles = new Set(stored);
  if (slackAdmin) roles.add('admin');
  return { roles: NURTURE_ROLES.filter((role) => roles.has(role)), slackAdmin };
}

async function isSlackAdmin(services: Services, userId: string): Promise<boolean> {
  const { user } = await services.slack.users.info({ user: userId });
  return Boolean(user?.is_admin || user?.is_owner || user?.is_primary_owner);
}

/**
 * Throws PermissionDeniedError, naming the role needed and who can grant it, unless the person holds
 * one of `allowed` (admins may do anything).
 */
export async function requireRole(
  services: Services,
  teamId: string,
  userId: string,
  allowed: readonly NurtureRole[],
  whatTheyTried: string,
): Promise<PersonRoles> {
  const person = await rolesOf(services, teamId, userId);
  if (person.roles.includes('admin') || person.roles.some((role) => allowed.includes(role))) return person;
  const needed = allowed.includes('admin') && allowed.length === 1 ? 'the *admin* role' : `one of these roles: ${allowed.map((role) => `*${role}*`).join(', ')}`;
  const admins = (await listRoleHolders(services.sql, teamId)).filter((row) => row.role === 'admin').map((row) => `<@${row.user_id}>`);
  const who = admins.length > 0 ? `a Nurture admin (${admins.slice(0, 5).join(', ')}) or a Slack workspace admin` : 'a Slack workspace owner or admin';
  const example = allowed.find((role) => role !== 'admin') ?? 'admin';
  throw new PermissionDeniedError(
    `${whatTheyTried} needs ${needed}. Ask ${who} to grant it: \`/nurture roles add @you ${example}\`.`,
  );
}
