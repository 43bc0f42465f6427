import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/slack/ids.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

describe.each([
  { mode: 'HTTP', socketMode: false },
  { mode: 'Socket Mode', socketMode: true },
])('App Home over $mode', ({ socketMode }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ socketMode });
    app.addUser({ id: 'U0OWNER', isOwner: true });
    app.addUser({ id: 'U0NEWBIE' });
  });
  afterAll(() => app.stop());

  const openHome = async (userId: string) => {
    const before = app.slack.callsTo('views.publish').length;
    await app.event({ type: 'app_home_opened', user: userId, channel: 'D0HOME', tab: 'home' });
    const call = await app.slack.waitForCall('views.publish', (candidate) => candidate.args.user_id === userId && app.slack.callsTo('views.publish').indexOf(candidate) >= before);
    return JSON.stringify(call.args.view);
  };

  it('shows what Nurture is, the person’s roles and quick actions', async () => {
    const view = await openHome('U0OWNER');
    expect(view).toContain('Nurture keeps B2B leads warm');
    expect(view).toContain('*admin*');
    expect(view).toContain('because you are a Slack workspace owner or admin');
    expect(view).toContain(ActionIds.homeShowHelp);
    expect(view).toContain(ActionIds.homeShowRoles);
  });

  it('tells someone without a role how to get one', async () => {
    expect(await openHome('U0NEWBIE')).toContain('You have no Nurture role yet');
  });

  it('quick actions open the commands and roles in a modal', async () => {
    for (const [actionId, title] of [
      [ActionIds.homeShowHelp, 'Nurture commands'],
      [ActionIds.homeShowRoles, 'Roles'],
    ] as const) {
      const triggerId = app.slack.newTriggerId();
      await app.interaction({
        type: 'block_actions',
        user: { id: 'U0NEWBIE', team_id: app.slack.teamId },
        team: { id: app.slack.teamId, domain: app.slack.teamDomain },
        api_app_id: app.slack.appId,
        trigger_id: triggerId,
        container: { type: 'view', view_id: 'V0HOME' },
        view: { id: 'V0HOME', type: 'home' },
        actions: [{ type: 'button', action_id: actionId, block_id: 'b1', action_ts: '1.2', text: { type: 'plain_text', text: 'x' } }],
      });
      const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
      expect(opened.args.view).toMatchObject({ type: 'modal', title: { text: title } });
    }
  });
});
