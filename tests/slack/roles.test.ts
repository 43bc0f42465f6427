import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';


describe.each([
  { mode: 'HTTP', socketMode: false },
  { mode: 'Socket Mode', socketMode: true },
])('roles over $mode', ({ socketMode }) => {
  let app: TestApp;
  const say = async (userId: string, text: string, teamId?: string) => replyText((await app.command(userId, text, { teamId })).reply.body);

  beforeAll(async () => {
    app = await startTestApp({ socketMode });
    app.addUser({ id: 'U0OWNER', name: 'olga', isOwner: true });
    app.addUser({ id: 'U0SLACKADMIN', name: 'sam', isAdmin: true });
    app.addUser({ id: 'U0BOB', name: 'bob' });
    app.addUser({ id: 'U0CARA', name: 'cara' });
  });
  afterAll(() => app.stop());

  it('someone without a role is told which role is needed and who can grant it', async () => {
    expect(await say('U0BOB', 'roles add <@U0CARA|cara> marketer')).toBe(
      'Granting roles needs the *admin* role. Ask a Slack workspace owner or admin to grant it: `/nurture roles add @you admin`.',
    );
    const [row] = await app.db.sql`SELECT count(*)::int AS n FROM workspace_roles`;
    expect(row?.n).toBe(0);
  });

  it('a Slack workspace owner grants a role: stored, audited, and the person’s App Home refreshed', async () => {
    expect(await say('U0OWNER', 'roles add <@U0BOB|bob> marketer')).toBe('<@U0BOB> is now a *marketer*.');
    expect(await app.db.sql`SELECT team_id, user_id, role, granted_by FROM workspace_roles`).toEqual([
      { team_id: app.slack.teamId, user_id: 'U0BOB', role: 'marketer', granted_by: 'U0OWNER' },
    ]);
    expect(await app.db.sql`SELECT actor_user_id, action, subject, details FROM audit_log`).toEqual([
      { actor_user_id: 'U0OWNER', action: 'role.granted', subject: 'U0BOB', details: { role: 'marketer' } },
    ]);
    const published = await app.slack.waitForCall('views.publish', (call) => call.args.user_id === 'U0BOB');
    expect(JSON.stringify(published.args.view)).toContain('*marketer*');
  });

  it('granting again changes nothing and says so', async () => {
    expect(await say('U0SLACKADMIN', 'roles add <@U0BOB|bob> marketer')).toBe('<@U0BOB> was already a *marketer*; nothing changed.');
    const [row] = await app.db.sql`SELECT count(*)::int AS n FROM audit_log`;
    expect(row?.n).toBe(1);
  });

  it('a marketer still cannot grant roles, and is told which admins to ask', async () => {
    await say('U0OWNER', 'roles add <@U0CARA|cara> admin');
    expect(await say('U0BOB', 'roles add <@U0BOB|bob> admin')).toBe(
      'Granting roles needs the *admin* role. Ask a Nurture admin (<@U0CARA>) or a Slack workspace admin to grant it: `/nurture roles add @you admin`.',
    );
  });

  it('anyone may list who holds each role', async () => {
    const text = await say('U0BOB', 'roles');
    expect(text).toContain('*admin* — grants roles');
    expect(text).toMatch(/\*admin\*.*\n<@U0CARA>/);
    expect(text).toMatch(/\*marketer\*.*\n<@U0BOB>/);
    expect(text).toMatch(/\*rep\*.*\n_nobody yet_/);
  });

  it('explains a bad mention, a bad role and a missing argument', async () => {
    expect(await say('U0OWNER', 'roles add bob marketer')).toBe('"bob" is not a person: mention them with @, e.g. `/nurture roles add @alex marketer`');
    expect(await say('U0OWNER', 'roles add <@U0BOB|bob> wizard')).toBe('"wizard" is not a role. Roles are admin, marketer, rep.');
    expect(await say('U0OWNER', 'roles add <@U0BOB|bob>')).toMatch(/^Say who and which role: /);
    expect(await say('U0OWNER', 'roles promote <@U0BOB|bob> rep')).toMatch(/^I can list, add or remove roles: /);
  });

  it('revokes a role, audited; revoking what is not held changes nothing', async () => {
    expect(await say('U0CARA', 'roles remove <@U0BOB|bob> marketer')).toBe('<@U0BOB> is no longer a *marketer*.');
    expect(await say('U0CARA', 'roles remove <@U0BOB|bob> marketer')).toBe('<@U0BOB> was not a *marketer*; nothing changed.');
    const actions = await app.db.sql<{ action: string }[]>`SELECT action FROM audit_log ORDER BY id`;
    expect(actions.map((row) => row.action)).toEqual(['role.granted', 'role.granted', 'role.revoked']);
  });

  it('the last granted admin cannot remove themselves; a Slack admin keeps admin regardless', async () => {
    expect(await say('U0CARA', 'roles remove <@U0CARA|cara> admin')).toMatch(/^You are the last Nurture admin/);
    await say('U0OWNER', 'roles add <@U0SLACKADMIN|sam> admin');
    expect(await say('U0CARA', 'roles remove <@U0SLACKADMIN|sam> admin')).toBe(
      '<@U0SLACKADMIN> is no longer an *admin*. They stay an admin in Nurture because they are a Slack workspace owner or admin.',
    );
  });

  it('roles in one workspace are invisible to another', async () => {
    const otherTeam = await say('U0BOB', 'roles', 'T0OTHERTEAM');
    expect(otherTeam).not.toContain('<@U0CARA>');
    expect(otherTeam.match(/_nobody yet_/g)).toHaveLength(3);
  });
});
