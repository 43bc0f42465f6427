import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsBlockIds } from '../../src/modules/settings/build-settings-modal.ts';
import { UNKNOWN_TIME_ZONE_TEXT, WEEK_BELOW_DAY_TEXT } from '../../src/modules/settings/submit-settings.ts';
import { getWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { CallbackIds } from '../../src/slack/ids.ts';
import type { Args } from '../support/fake-slack.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
const OWNER = 'U0OWNER';
const MARKETER = 'U0MARK';
const NOBODY = 'U0NOBODY';

type View = Args & { id: string; blocks: Array<Args & { block_id?: string; element?: Args }> };

beforeAll(async () => {
  app = await startTestApp();
  app.addUser({ id: OWNER, isOwner: true });
  app.addUser({ id: MARKETER, name: 'mari' });
  app.addUser({ id: NOBODY, name: 'nora' });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
});
afterAll(() => app.stop());

/** `/nurture settings` as an admin; resolves with the form it opened. */
async function openSettings(): Promise<View> {
  const triggerId = app.slack.newTriggerId();
  const result = await app.requests.command({ teamId: app.slack.teamId, userId: OWNER, channelId: 'C0GENERAL', text: 'settings', responseUrl: app.slack.responseUrl(), triggerId });
  expect(result.status).toBe(200);
  const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
  return opened.response.view as View;
}

const VALID = {
  [SettingsBlockIds.timeZone]: 'asia/tokyo',
  [SettingsBlockIds.senderName]: 'Kojo Marketing',
  [SettingsBlockIds.postalAddress]: '1-2-3 Marunouchi\nChiyoda-ku, Tokyo 100-0005',
  [SettingsBlockIds.capPerDay]: '2',
  [SettingsBlockIds.capPerWeek]: '5',
  [SettingsBlockIds.selfApprovalBelow]: '50',
  [SettingsBlockIds.sendExpiryMinutes]: '30',
};

const submit = (view: View, userId: string, values: Record<string, string | null>) =>
  app.interaction(app.slack.viewSubmission({ viewId: view.id, userId, values })) as Promise<Args>;

describe('/nurture settings', () => {
  it('opens the form for an admin, filled in with the defaults', async () => {
    const view = await openSettings();
    expect(view.callback_id).toBe(CallbackIds.settingsModal);
    const initial = (blockId: string) => view.blocks.find((block) => block.block_id === blockId)?.element?.initial_value;
    expect(initial(SettingsBlockIds.timeZone)).toBe('UTC');
    expect(initial(SettingsBlockIds.capPerDay)).toBe('1');
    expect(initial(SettingsBlockIds.capPerWeek)).toBe('3');
    expect(initial(SettingsBlockIds.sendExpiryMinutes)).toBe('60');
    expect(initial(SettingsBlockIds.selfApprovalBelow)).toBeUndefined();
    expect(initial(SettingsBlockIds.postalAddress)).toBeUndefined();
  });

  it('refuses bad values beside their fields and changes nothing', async () => {
    const view = await openSettings();
    const ack = await submit(view, OWNER, {
      ...VALID,
      [SettingsBlockIds.timeZone]: 'Mars/Olympus_Mons',
      [SettingsBlockIds.postalAddress]: 'x',
      [SettingsBlockIds.capPerDay]: '4',
      [SettingsBlockIds.capPerWeek]: '2',
      [SettingsBlockIds.sendExpiryMinutes]: '1',
    });
    expect(ack).toEqual({
      response_action: 'errors',
      errors: {
        [SettingsBlockIds.timeZone]: UNKNOWN_TIME_ZONE_TEXT,
        [SettingsBlockIds.postalAddress]: 'That is too short to be a postal address.',
        [SettingsBlockIds.sendExpiryMinutes]: 'At least 5.',
      },
    });
    // The cross-field rule is checked once each field is valid on its own.
    const weekly = await submit(view, OWNER, { ...VALID, [SettingsBlockIds.capPerDay]: '4', [SettingsBlockIds.capPerWeek]: '2' });
    expect(weekly).toEqual({ response_action: 'errors', errors: { [SettingsBlockIds.capPerWeek]: WEEK_BELOW_DAY_TEXT } });
    const settings = await getWorkspaceSettings(app.db.sql, app.slack.teamId);
    expect(settings).toMatchObject({ timeZone: 'UTC', postalAddress: null, capPerDay: 1, capPerWeek: 3 });
    expect(await app.db.sql`SELECT 1 FROM audit_log WHERE action = 'settings.changed'`).toHaveLength(0);
  });

  it('saves valid settings (time zone in its canonical spelling), audits what changed and shows them saved', async () => {
    const view = await openSettings();
    const ack = await submit(view, OWNER, VALID);
    expect(ack).toMatchObject({ response_action: 'update' });
    const saved = JSON.stringify((ack as { view: unknown }).view);
    expect(saved).toContain('Saved');
    expect(saved).toContain('Asia/Tokyo');
    expect(saved).toContain('at most 2 marketing emails per person per day and 5 per 7 days');

    expect(await getWorkspaceSettings(app.db.sql, app.slack.teamId)).toEqual({
      teamId: app.slack.teamId,
      timeZone: 'Asia/Tokyo',
      senderName: 'Kojo Marketing',
      postalAddress: '1-2-3 Marunouchi\nChiyoda-ku, Tokyo 100-0005',
      capPerDay: 2,
      capPerWeek: 5,
      selfApprovalBelow: 50,
      sendExpiryMinutes: 30,
    });
    const [audit] = await app.db.sql<{ actor_user_id: string; details: Record<string, unknown> }[]>`
      SELECT actor_user_id, details FROM audit_log WHERE action = 'settings.changed'`;
    expect(audit).toMatchObject({ actor_user_id: OWNER, details: { timeZone: { from: 'UTC', to: 'Asia/Tokyo' }, capPerDay: { from: 1, to: 2 }, selfApprovalBelow: { from: null, to: 50 } } });

    // Emptying an optional field clears the setting.
    const again = await openSettings();
    expect(again.blocks.find((block) => block.block_id === SettingsBlockIds.selfApprovalBelow)?.element?.initial_value).toBe('50');
    await submit(again, OWNER, { ...VALID, [SettingsBlockIds.selfApprovalBelow]: null, [SettingsBlockIds.senderName]: null });
    expect(await getWorkspaceSettings(app.db.sql, app.slack.teamId)).toMatchObject({ selfApprovalBelow: null, senderName: null, timeZone: 'Asia/Tokyo' });
  });

  it('shows the settings to a marketer without a form, and refuses someone without a role', async () => {
    const opens = app.slack.callsTo('views.open').length;
    const text = replyText((await app.command(MARKETER, 'settings')).reply.body);
    expect(text).toContain('*Time zone:* Asia/Tokyo');
    expect(text).toContain('Only admins change these');
    expect(app.slack.callsTo('views.open')).toHaveLength(opens);

    expect(replyText((await app.command(NOBODY, 'settings')).reply.body)).toMatch(/^Looking at the sending settings needs one of these roles: \*marketer\*, \*rep\*/);
  });

  it('refuses a save by someone who is not an admin, even with the form in hand', async () => {
    const view = await openSettings();
    const ack = await submit(view, MARKETER, { ...VALID, [SettingsBlockIds.capPerDay]: '9', [SettingsBlockIds.capPerWeek]: '9' });
    expect(ack).toMatchObject({ response_action: 'errors', errors: { [SettingsBlockIds.timeZone]: expect.stringMatching(/^Changing the sending settings needs the \*admin\* role/) } });
    expect(await getWorkspaceSettings(app.db.sql, app.slack.teamId)).toMatchObject({ capPerDay: 2 });
  });
});
