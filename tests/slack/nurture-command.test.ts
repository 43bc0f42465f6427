import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/slack/ids.ts';
import { unexpectedErrorText } from '../../src/slack/messages.ts';
import { SUBCOMMANDS } from '../../src/slack/subcommands.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';


describe.each([
  { mode: 'HTTP', socketMode: false },
  { mode: 'Socket Mode', socketMode: true },
])('/nurture over $mode', ({ socketMode }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ socketMode });
    app.addUser({ id: 'U0MARKETER', name: 'mia' });
  });
  afterAll(() => app.stop());

  it('help lists every subcommand with an example, privately', async () => {
    const { ack, reply } = await app.command('U0MARKETER', 'help');
    expect(ack.status).toBe(200);
    expect(reply.body).toMatchObject({ response_type: 'ephemeral' });
    const text = replyText(reply.body);
    for (const subcommand of SUBCOMMANDS) {
      expect(text).toContain(`*${subcommand.name}*`);
      for (const usage of subcommand.usage) expect(text).toContain(usage.example);
    }
  });

  it('with no subcommand, shows help', async () => {
    const { reply } = await app.command('U0MARKETER', '');
    expect(replyText(reply.body)).toContain('/nurture roles add @alex marketer');
  });

  it('help for one command shows only that command; an unknown topic lists the real ones', async () => {
    const roles = replyText((await app.command('U0MARKETER', 'help roles')).reply.body);
    expect(roles).toContain('*roles*');
    expect(roles).not.toContain('*help*');
    const unknown = replyText((await app.command('U0MARKETER', 'help rocket')).reply.body);
    expect(unknown).toBe(`There is no \`rocket\` command. Commands: ${SUBCOMMANDS.map((subcommand) => `\`${subcommand.name}\``).join(', ')}.`);
  });

  it('an unknown subcommand gets a hint, with a suggestion for a typo', async () => {
    expect(replyText((await app.command('U0MARKETER', 'rolez')).reply.body)).toBe(
      "I don't know `/nurture rolez`. Did you mean `/nurture roles`? Type `/nurture help` to see everything I can do.",
    );
    expect(replyText((await app.command('U0MARKETER', 'launch rockets')).reply.body)).toBe(
      "I don't know `/nurture launch`. Type `/nurture help` to see everything I can do.",
    );
  });

  it('a malformed command says where it broke', async () => {
    const { reply } = await app.command('U0MARKETER', 'roles add "unclosed');
    expect(replyText(reply.body)).toBe("I couldn't read that command: this quote is never closed (at character 11).");
  });
});

describe('/nurture when something breaks', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('an unexpected error reaches the person as a short message whose reference id is in the log', async () => {
    // Break the database under the app: the roles query now fails unexpectedly.
    await app.db.sql`ALTER TABLE workspace_roles RENAME TO workspace_roles_gone`;
    try {
      const { reply } = await app.command('U0ANYONE', 'roles');
      const text = replyText(reply.body);
      const referenceId = /reference: \*([0-9A-Z]{8})\*/.exec(text)?.[1];
      expect(referenceId).toMatch(/^[0-9A-Z]{8}$/);
      expect(text).toBe(unexpectedErrorText(referenceId!));
      expect(text).not.toMatch(/workspace_roles|stack|Error:/);
      const logged = app.logs.find((line) => line.referenceId === referenceId);
      expect(logged).toMatchObject({ msg: 'command failed', subcommand: 'roles', teamId: app.slack.teamId, userId: 'U0ANYONE' });
      expect(JSON.stringify(logged?.err)).toContain('workspace_roles');
    } finally {
      await app.db.sql`ALTER TABLE workspace_roles_gone RENAME TO workspace_roles`;
    }
  });

  it('a button that fails unexpectedly tells the person by DM, with the reference id from the log', async () => {
    app.addUser({ id: 'U0CLICKER' });
    await app.db.sql`ALTER TABLE workspace_roles RENAME TO workspace_roles_gone`;
    try {
      await app.interaction({
        type: 'block_actions',
        user: { id: 'U0CLICKER', team_id: app.slack.teamId },
        team: { id: app.slack.teamId, domain: app.slack.teamDomain },
        api_app_id: app.slack.appId,
        trigger_id: app.slack.newTriggerId(),
        container: { type: 'view', view_id: 'V0HOME' },
        actions: [{ type: 'button', action_id: ActionIds.homeShowRoles, block_id: 'b1', action_ts: '1.2', text: { type: 'plain_text', text: 'Roles' } }],
      });
      const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === 'U0CLICKER');
      const referenceId = /reference: \*([0-9A-Z]{8})\*/.exec(String(dm.args.text))?.[1];
      expect(dm.args.text).toBe(unexpectedErrorText(referenceId!));
      expect(app.logs.find((line) => line.referenceId === referenceId)).toMatchObject({ msg: 'slack listener failed' });
    } finally {
      await app.db.sql`ALTER TABLE workspace_roles_gone RENAME TO workspace_roles`;
    }
  });

  it('refuses requests with a bad or stale signature, and does nothing with them', async () => {
    const fields = { teamId: 'T0INTRUDER', userId: 'U0X', channelId: 'C0X', text: 'help', responseUrl: app.slack.responseUrl(), triggerId: 'trig' };
    const wrongSecret = await app.requests.command(fields, { secret: 'not-the-secret' });
    const stale = await app.requests.command(fields, { timestampSeconds: Math.floor(Date.now() / 1000) - 6 * 60 });
    const unsigned = await app.requests.command(fields, { unsigned: true });
    expect([wrongSecret.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
    const [row] = await app.db.sql`SELECT count(*)::int AS n FROM workspaces WHERE team_id = 'T0INTRUDER'`;
    expect(row?.n).toBe(0);
    expect(app.slack.responses.filter((response) => response.url === fields.responseUrl)).toEqual([]);
  });
});
