import { LogLevel, type Logger } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDraft } from '../../src/modules/segments/builder-draft.ts';
import { refreshBuilderPreview } from '../../src/modules/segments/update-segment-builder.ts';
import { ActionIds, CallbackIds } from '../../src/slack/ids.ts';
import type { Args, RecordedCall, ViewActionOptions } from '../support/fake-slack.ts';
import { daysAgo, insertEvent, insertLead } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

let app: TestApp;
const OWNER = 'U0OWNER';
const MARKETER = 'U0MARK';
const OTHER_TEAM = 'T0OTHERTEAM';
const now = new Date();

/** The refusal below is the point of a test: keep the SDK from printing it. */
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, setLevel: () => undefined, getLevel: () => LogLevel.ERROR, setName: () => undefined };

type View = Args & { id: string; hash: string; blocks: Array<Args & { block_id?: string; text?: { text: string }; element?: Args }> };

beforeAll(async () => {
  app = await startTestApp();
  app.addUser({ id: OWNER, isOwner: true });
  app.addUser({ id: MARKETER, name: 'mari' });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
  const team = app.slack.teamId;
  const sql = app.db.sql;
  const vp = await insertLead(sql, team, { email: 'vp.ops@kojo.example', first_name: 'Hana', last_name: 'Sato', title: 'VP Operations', industry: 'manufacturing', stage: 'consideration', attributes: { plan: 'enterprise' } });
  await insertLead(sql, team, { email: 'vp.sales@kojo.example', title: 'VP Sales', industry: 'Manufacturing', stage: 'consideration' });
  await insertLead(sql, team, { email: 'engineer@kojo.example', title: 'Engineer', industry: 'manufacturing', stage: 'awareness' });
  const software = await insertLead(sql, team, { email: 'vp@soft.example', title: 'VP Engineering', industry: 'software', stage: 'consideration' });
  const gone = await insertLead(sql, team, { email: 'gone@kojo.example', title: 'VP Quality', industry: 'manufacturing', stage: 'consideration', status: 'unsubscribed' });
  for (const lead of [vp, software, gone]) await insertEvent(sql, team, lead.id, { name: 'page_view', url_path: '/pricing', occurred_at: daysAgo(now, 3) });
  await insertEvent(sql, team, vp.id, { name: 'resource_download', occurred_at: daysAgo(now, 2) });
  // Another workspace: its values must never be offered or counted here.
  const stranger = await insertLead(sql, OTHER_TEAM, { email: 'vp@aero.example', title: 'VP Flight', industry: 'aerospace', stage: 'consideration', attributes: { secret_attribute: 'x' } });
  await insertEvent(sql, OTHER_TEAM, stranger.id, { name: 'page_view', url_path: '/private-pricing', occurred_at: daysAgo(now, 1) });
  await insertEvent(sql, OTHER_TEAM, stranger.id, { name: 'secret_event', occurred_at: daysAgo(now, 1) });
});
afterAll(() => app.stop());

/** `/nurture segment <text>` that opens the builder; resolves with the view once its first preview is shown. */
async function openBuilder(userId: string, text: string): Promise<View> {
  const triggerId = app.slack.newTriggerId();
  const since = app.slack.calls.length;
  const result = await app.requests.command({ teamId: app.slack.teamId, userId, channelId: 'C0GENERAL', text, responseUrl: app.slack.responseUrl(), triggerId });
  expect(result.status).toBe(200);
  const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
  const view = opened.response.view as View;
  expect(view).toMatchObject({ callback_id: CallbackIds.segmentBuilder });
  return (await viewUpdate(since, view.id, (candidate) => previewText(candidate).includes('match'))).response.view as View;
}

/** The first accepted views.update of the view after call number `since` whose view satisfies `until`. */
function viewUpdate(since: number, viewId: string, until: (view: View) => boolean): Promise<RecordedCall> {
  return waitFor(
    () => app.slack.calls.slice(since).find((call) => call.method === 'views.update' && call.ok && call.args.view_id === viewId && until(call.response.view as View)),
    { description: `a views.update of ${viewId} matching ${until.toString()}` },
  );
}

/** A click or choice in the builder, as MARKETER; resolves with the view once `until` holds for an update. */
async function act(view: View, action: Omit<ViewActionOptions, 'viewId' | 'userId'>, until: (view: View) => boolean): Promise<View> {
  const since = app.slack.calls.length;
  const ack = await app.interaction(app.slack.viewAction({ viewId: view.id, userId: MARKETER, ...action }));
  expect(ack).toBe('');
  return (await viewUpdate(since, view.id, until)).response.view as View;
}

const previewText = (view: View) => view.blocks.find((block) => block.block_id === 'segment_preview')?.text?.text ?? '';
const counted = (count: number) => (view: View) => previewText(view).includes(`*${count}* ${count === 1 ? 'lead matches' : 'leads match'}`);
/** The editor's input for one slot ('value', 'count', 'days'): its block_id carries the draft's generation. */
const inputBlock = (view: View, slot: string) => view.blocks.find((block) => block.block_id?.startsWith(`segment_${slot}_`));
const hasInput = (slot: string) => (view: View) => inputBlock(view, slot) !== undefined;
const conditionTexts = (view: View) => view.blocks.filter((block) => block.block_id?.startsWith('segment_condition_')).map((block) => block.text?.text);

describe('the segment builder', () => {
  it('builds a segment one condition at a time, with a live count and sample, and stores what was built', async () => {
    let view = await openBuilder(MARKETER, 'segment new');
    expect(view.title).toMatchObject({ text: 'New segment' });
    // Four subscribed leads in this workspace: the unsubscribed one and the other workspace's never count.
    expect(previewText(view)).toContain('*4* leads match right now (subscribed leads only');

    view = await act(view, { actionId: ActionIds.segmentField, value: 'industry' }, hasInput('value'));
    expect(inputBlock(view, 'value')?.element).toMatchObject({ type: 'external_select', action_id: ActionIds.segmentValueOptions });
    view = await act(view, { actionId: ActionIds.segmentConditionAdd, values: { [inputBlock(view, 'value')!.block_id!]: 'manufacturing' } }, counted(3));
    expect(conditionTexts(view)).toEqual(['industry is "manufacturing"']);
    expect(previewText(view)).toContain('vp.ops@kojo.example');
    expect(previewText(view)).not.toContain('gone@kojo.example');

    // A second condition narrows it; removing it widens it again.
    view = await act(view, { actionId: ActionIds.segmentField, value: 'stage' }, hasInput('value'));
    view = await act(view, { actionId: ActionIds.segmentConditionAdd, values: { [inputBlock(view, 'value')!.block_id!]: 'awareness' } }, counted(1));
    view = await act(view, { actionId: ActionIds.segmentConditionRemove, blockId: 'segment_condition_1' }, counted(3));
    expect(conditionTexts(view)).toEqual(['industry is "manufacturing"']);

    view = await act(view, { actionId: ActionIds.segmentField, value: 'title' }, hasInput('value'));
    view = await act(view, { actionId: ActionIds.segmentOperator, value: 'contains' }, (candidate) => inputBlock(candidate, 'value')?.element?.type === 'plain_text_input');
    view = await act(view, { actionId: ActionIds.segmentConditionAdd, values: { [inputBlock(view, 'value')!.block_id!]: 'VP' } }, counted(2));

    view = await act(view, { actionId: ActionIds.segmentField, value: 'page_visited' }, hasInput('days'));
    view = await act(
      view,
      { actionId: ActionIds.segmentConditionAdd, values: { [inputBlock(view, 'value')!.block_id!]: '/pricing', [inputBlock(view, 'days')!.block_id!]: '30' } },
      counted(1),
    );
    expect(conditionTexts(view)).toEqual(['industry is "manufacturing"', '_and_ title contains "VP"', '_and_ visited /pricing in the last 30 days']);
    expect(previewText(view)).toContain('Hana Sato · VP Operations · vp.ops@kojo.example · consideration');

    // Reporting: the unsubscribed VP who visited pricing is counted too.
    view = await act(view, { actionId: ActionIds.segmentSuppressedInput, value: ['include'] }, counted(2));
    expect(previewText(view)).toContain('• gone@kojo.example · VP Quality · consideration _(unsubscribed)_');

    const ack = await app.interaction(
      app.slack.viewSubmission({
        viewId: view.id,
        userId: MARKETER,
        values: { segment_name: 'Mfg VPs on pricing', segment_description: 'For the pricing webinar', segment_suppressed: ['include'] },
      }),
    );
    expect(ack).toBe('');
    const dm = await app.slack.waitForCall('chat.postMessage', (call) => call.args.channel === MARKETER && String(call.args.text).includes('Mfg VPs on pricing'));
    expect(dm.args.text).toBe(
      ':white_check_mark: Saved the new segment *Mfg VPs on pricing*: *2 leads* match right now (reporting: unsubscribed, bounced and complained leads are counted too). See it with `/nurture segment show "Mfg VPs on pricing"`.',
    );
    const [stored] = await app.db.sql`SELECT rule, description, include_suppressed, created_by FROM segments WHERE name = 'Mfg VPs on pricing'`;
    expect(stored).toEqual({
      rule: {
        type: 'all',
        rules: [
          { type: 'field', field: 'industry', op: 'equals', value: 'manufacturing' },
          { type: 'field', field: 'title', op: 'contains', value: 'VP' },
          { type: 'behaviour', behaviour: 'page_visited', url: '/pricing', within_days: 30 },
        ],
      },
      description: 'For the pricing webinar',
      include_suppressed: true,
      created_by: MARKETER,
    });
  });

  it('says what is missing instead of adding a half-made condition, and adds a filled-in one on save', async () => {
    let view = await openBuilder(MARKETER, 'segment new "Recent downloaders"');
    expect(view.blocks[0]?.element).toMatchObject({ initial_value: 'Recent downloaders' });
    view = await act(view, { actionId: ActionIds.segmentField, value: 'event' }, hasInput('value'));
    view = await act(view, { actionId: ActionIds.segmentConditionAdd }, (candidate) => candidate.blocks.some((block) => block.block_id === 'segment_editor_error'));
    expect(JSON.stringify(view.blocks.find((block) => block.block_id === 'segment_editor_error'))).toContain('Choose the event.');

    view = await act(view, { actionId: ActionIds.segmentOperator, value: 'at_least' }, hasInput('count'));
    const ack = await app.interaction(
      app.slack.viewSubmission({
        viewId: view.id,
        userId: MARKETER,
        values: { segment_name: 'Recent downloaders', [inputBlock(view, 'value')!.block_id!]: 'resource_download', [inputBlock(view, 'count')!.block_id!]: '1', [inputBlock(view, 'days')!.block_id!]: '7' },
      }),
    );
    expect(ack).toBe('');
    await waitFor(async () => (await app.db.sql`SELECT rule FROM segments WHERE name = 'Recent downloaders'`)[0]);
    const [stored] = await app.db.sql`SELECT rule FROM segments WHERE name = 'Recent downloaders'`;
    expect(stored!.rule).toEqual({ type: 'behaviour', behaviour: 'event', name: 'resource_download', at_least: 1, within_days: 7 });
  });

  it('refuses a duplicate name and a blank one beside the name field', async () => {
    const view = await openBuilder(MARKETER, 'segment new');
    const duplicate = await app.interaction(app.slack.viewSubmission({ viewId: view.id, userId: MARKETER, values: { segment_name: 'mfg vps ON pricing' } }));
    expect(duplicate).toEqual({
      response_action: 'errors',
      errors: { segment_name: 'There is already a segment called "mfg vps ON pricing". Pick another name, or change that one with `/nurture segment edit`.' },
    });
    const blank = await app.interaction(app.slack.viewSubmission({ viewId: view.id, userId: MARKETER, values: { segment_name: '   ' } }));
    expect(blank).toEqual({ response_action: 'errors', errors: { segment_name: 'Give the segment a name.' } });
  });

  it('edits a segment in the form, pre-filled with its conditions', async () => {
    let view = await openBuilder(MARKETER, 'segment edit Mfg VPs on pricing');
    expect(view.title).toMatchObject({ text: 'Edit segment' });
    expect(view.blocks[0]?.element).toMatchObject({ initial_value: 'Mfg VPs on pricing' });
    expect(conditionTexts(view)).toHaveLength(3);
    // Still a reporting segment while editing: the unsubscribed VP is counted in the preview.
    view = await act(view, { actionId: ActionIds.segmentConditionRemove, blockId: 'segment_condition_2' }, counted(3));
    // The box comes ticked (a reporting segment); unticked, it is saved as a sending segment: 2.
    const ack = await app.interaction(
      app.slack.viewSubmission({ viewId: view.id, userId: MARKETER, values: { segment_name: 'Mfg VPs', segment_description: 'All of them', segment_suppressed: null } }),
    );
    expect(ack).toBe('');
    await app.slack.waitForCall('chat.postMessage', (call) => String(call.args.text).startsWith(':white_check_mark: Saved your changes to *Mfg VPs*: *2 leads* match right now (subscribed'));
    const [stored] = await app.db.sql`SELECT name, rule, include_suppressed, updated_by FROM segments WHERE name = 'Mfg VPs'`;
    expect(stored).toEqual({
      name: 'Mfg VPs',
      rule: { type: 'all', rules: [{ type: 'field', field: 'industry', op: 'equals', value: 'manufacturing' }, { type: 'field', field: 'title', op: 'contains', value: 'VP' }] },
      include_suppressed: false,
      updated_by: MARKETER,
    });
  });
});

describe('the builder’s live preview', () => {
  it('drops a count made for a view that changed meanwhile', async () => {
    const since = app.slack.calls.length;
    const view = await openBuilder(MARKETER, 'segment new');
    const opened = app.slack.calls.slice(since).find((call) => call.method === 'views.open')!.response.view as View;
    // The count below was started for the view as first opened; the preview has changed it since.
    const client = new WebClient(app.slack.botToken, { slackApiUrl: app.slack.url, retryConfig: { retries: 0 }, logger: quiet });
    const draft = { ...emptyDraft(), conditions: [{ type: 'field' as const, field: 'industry' as const, op: 'equals' as const, value: 'software' }] };
    await refreshBuilderPreview(app.nurture.services, client, { teamId: app.slack.teamId, viewId: opened.id, hash: opened.hash, draft, details: { includeSuppressed: false } });
    expect(app.slack.calls.at(-1)).toMatchObject({ method: 'views.update', ok: false, error: 'hash_conflict' });
    const current = app.slack.callsTo('views.update').filter((call) => call.args.view_id === view.id).at(-1)!.response.view as View;
    expect(previewText(current)).toContain('*4* leads match');
  });
});

describe('type-ahead values in the builder', () => {
  /** Slack's options request for an external select of the open builder; Bolt answers in the HTTP response. */
  async function suggest(view: View, actionId: string, value: string): Promise<string[]> {
    const answer = (await app.interaction(app.slack.blockSuggestion({ viewId: view.id, userId: MARKETER, actionId, value }))) as { options: Array<{ text: { text: string }; value: string }> };
    for (const option of answer.options) expect(option.text.text.length).toBeLessThanOrEqual(75);
    return answer.options.map((option) => option.value);
  }

  it('offers this workspace’s values only, with what was typed first', async () => {
    let view = await openBuilder(MARKETER, 'segment new');
    view = await act(view, { actionId: ActionIds.segmentField, value: 'industry' }, hasInput('value'));
    const industries = await suggest(view, ActionIds.segmentValueOptions, '');
    expect(industries.map((value) => value.toLowerCase()).sort()).toEqual(['manufacturing', 'software']);
    expect(await suggest(view, ActionIds.segmentValueOptions, 'aero')).toEqual(['aero']);
    // What was typed is offered unless it is a value already (in any case).
    expect(await suggest(view, ActionIds.segmentValueOptions, 'SOFT')).toEqual(['SOFT', 'software']);
    expect(await suggest(view, ActionIds.segmentValueOptions, 'Software')).toEqual(['software']);

    view = await act(view, { actionId: ActionIds.segmentField, value: 'page_visited' }, hasInput('value'));
    expect(await suggest(view, ActionIds.segmentPageOptions, '/p')).toEqual(['/p', '/pricing']);
    expect(await suggest(view, ActionIds.segmentPageOptions, '/products/*')).toEqual(['/products/*']);

    view = await act(view, { actionId: ActionIds.segmentField, value: 'event' }, hasInput('value'));
    expect(await suggest(view, ActionIds.segmentEventOptions, '')).toEqual(['page_view', 'resource_download']);
    expect(await suggest(view, ActionIds.segmentEventOptions, 'res')).toEqual(['res', 'resource_download']);

    view = await act(view, { actionId: ActionIds.segmentField, value: 'attribute' }, (candidate) => JSON.stringify(candidate.blocks).includes(ActionIds.segmentAttribute));
    expect(await suggest(view, ActionIds.segmentAttribute, '')).toEqual(['plan']);
    view = await act(view, { actionId: ActionIds.segmentAttribute, value: 'plan' }, hasInput('value'));
    expect(await suggest(view, ActionIds.segmentValueOptions, 'ent')).toEqual(['ent', 'enterprise']);
  });
});
