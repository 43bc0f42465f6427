import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import { parseUserMention } from '../../slack/command-text.ts';
import type { CommandContext, Subcommand } from '../../slack/subcommand.ts';
import { publishHomeQueue } from '../home/publish-home-queue.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { buildRolesBlocks } from './build-roles-blocks.ts';
import { countAdmins, grantRole, listRoleHolders, revokeRole } from './queries.ts';
import { NURTURE_ROLES, NurtureRoleSchema, requireRole, rolesOf } from './roles.ts';

const USAGE = '`/nurture roles add @person marketer` or `/nurture roles remove @person marketer` (roles: admin, marketer, rep)';

const MentionSchema = z.string().transform((token, ctx) => {
  const userId = parseUserMention(token);
  if (!userId) {
    ctx.addIssue({ code: 'custom', message: `"${token}" is not a person: mention them with @, e.g. \`/nurture roles add @alex marketer\`` });
    return z.NEVER;
  }
  return userId;
});

const RoleNameSchema = z.string().transform((token, ctx) => {
  const role = NurtureRoleSchema.safeParse(token.toLowerCase());
  if (!role.success) {
    ctx.addIssue({ code: 'custom', message: `"${token}" is not a role. Roles are ${NURTURE_ROLES.join(', ')}.` });
    return z.NEVER;
  }
  return role.data;
});

const ChangeArgsSchema = z.tuple([MentionSchema, RoleNameSchema]);

const aRole = (role: string) => `${/^[aeiou]/.test(role) ? 'an' : 'a'} *${role}*`;

export const rolesSubcommand: Subcommand = {
  name: 'roles',
  summary: 'who may do what in Nurture (admins grant and revoke)',
  usage: [
    { form: '/nurture roles', example: '/nurture roles', explains: 'list who holds each role' },
    { form: '/nurture roles add @person <admin|marketer|rep>', example: '/nurture roles add @alex marketer' },
    { form: '/nurture roles remove @person <admin|marketer|rep>', example: '/nurture roles remove @alex rep' },
  ],
  async run(context) {
    const [action, ...rest] = context.args;
    const verb = action?.value.toLowerCase();
    if (!verb || verb === 'list') return listRoles(context);
    if (verb !== 'add' && verb !== 'remove') throw new UsageError(`I can list, add or remove roles: ${USAGE}`);
    if (rest.length !== 2) throw new UsageError(`Say who and which role: ${USAGE}`);
    const parsed = ChangeArgsSchema.safeParse(rest.map((token) => token.value));
    if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? USAGE);
    const [targetUserId, role] = parsed.data;
    return verb === 'add' ? addRole(context, targetUserId, role) : removeRole(context, targetUserId, role);
  },
};

async function listRoles({ services, teamId, respond }: CommandContext) {
  const holders = await listRoleHolders(services.sql, teamId);
  await respond({ response_type: 'ephemeral', text: 'Nurture roles', blocks: buildRolesBlocks(holders) });
}

async function addRole(context: CommandContext, targetUserId: string, role: z.infer<typeof NurtureRoleSchema>) {
  const { services, teamId, userId, respond } = context;
  await requireRole(services, teamId, userId, ['admin'], 'Granting roles');
  const changed = await services.sql.begin(async (tx) => {
    const granted = await grantRole(tx, teamId, targetUserId, role, userId);
    if (granted) await recordAudit(tx, { teamId, actorUserId: userId, action: 'role.granted', subject: targetUserId, details: { role } });
    return granted;
  });
  if (changed) await services.enqueue(publishHomeQueue, { teamId, userId: targetUserId });
  await respond({
    response_type: 'ephemeral',
    text: changed ? `<@${targetUserId}> is now ${aRole(role)}.` : `<@${targetUserId}> was already ${aRole(role)}; nothing changed.`,
  });
}

async function removeRole(context: CommandContext, targetUserId: string, role: z.infer<typeof NurtureRoleSchema>) {
  const { services, teamId, userId, respond } = context;
  await requireRole(services, teamId, userId, ['admin'], 'Revoking roles');
  if (role === 'admin' && targetUserId === userId && (await countAdmins(services.sql, teamId)) <= 1) {
    const self = await rolesOf(services, teamId, userId);
    if (!self.slackAdmin) throw new UsageError('You are the last Nurture admin; grant admin to someone else first so the workspace is never left without one.');
  }
  const changed = await services.sql.begin(async (tx) => {
    const revoked = await revokeRole(tx, teamId, targetUserId, role);
    if (revoked) await recordAudit(tx, { teamId, actorUserId: userId, action: 'role.revoked', subject: targetUserId, details: { role } });
    return revoked;
  });
  let text = changed ? `<@${targetUserId}> is no longer ${aRole(role)}.` : `<@${targetUserId}> was not ${aRole(role)}; nothing changed.`;
  if (role === 'admin') {
    const target = await rolesOf(services, teamId, targetUserId);
    if (target.slackAdmin) text += ' They stay an admin in Nurture because they are a Slack workspace owner or admin.';
  }
  if (changed) await services.enqueue(publishHomeQueue, { teamId, userId: targetUserId });
  await respond({ response_type: 'ephemeral', text });
}
