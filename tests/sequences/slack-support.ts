import { expect } from 'vitest';
import { DetailsBlockIds, StepBlockIds } from '../../src/modules/sequences/sequence-forms.ts';
import { insertSequence, insertStep, type SequenceDefinition, type StepDefinition } from '../../src/modules/sequences/queries.ts';
import { DEFAULT_SEND_WINDOW } from '../../src/modules/sequences/sequence.ts';
import { insertSegment } from '../../src/modules/segments/queries.ts';
import type { Rule } from '../../src/modules/segments/rule.ts';
import { insertTemplate } from '../../src/modules/templates/queries.ts';
import type { TemplateContent, TemplateStage } from '../../src/modules/templates/template.ts';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { ActionIds, CallbackIds } from '../../src/slack/ids.ts';
import type { Args, RecordedCall, ViewActionOptions } from '../support/fake-slack.ts';
import { replyText } from '../support/slack-replies.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

/** People and content the sequence tests share: roles, a postal address, three templates along the journey. */

export const OWNER = 'U0OWNER';
export const MARKETER = 'U0MARI';
export const REP = 'U0RITA';
export const NOBODY = 'U0NOBU';

export type Block = Args & { type: string; block_id?: string; text?: { text: string }; element?: Args; elements?: Args[]; accessory?: Args };
export type View = Args & { id: string; hash: string; callback_id: string; title: { text: string }; private_metadata: string; blocks: Block[] };

export async function setUpWorkspace(app: TestApp, options: { postalAddress?: boolean } = {}): Promise<void> {
  app.addUser({ id: OWNER, name: 'olga', isOwner: true });
  app.addUser({ id: MARKETER, name: 'mari' });
  app.addUser({ id: REP, name: 'rita' });
  app.addUser({ id: NOBODY, name: 'nobu' });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
  await app.command(OWNER, `roles add <@${REP}|rita> rep`);
  await updateWorkspaceSettings(app.db.sql, app.slack.teamId, {
    senderName: 'Kojo Marketing',
    ...(options.postalAddress === false ? {} : { postalAddress: '1-2-3 Marunouchi, Tokyo 100-0005' }),
  });
}

const content = (name: string, stage: TemplateStage): TemplateContent => ({
  name,
  stage,
  subject: `${name} for {{ first_name | default: "you" }}`,
  preheader: '',
  body: `Hi {{ first_name | default: "there" }},\n\n${name} for {{ company | default: "your team" }}.`,
});

/** A template as written with `/nurture template new` (or, with a raw body, one that would not pass its checks today). */
export async function createTemplate(app: TestApp, name: string, stage: TemplateStage, body?: string): Promise<number> {
  const row = await insertTemplate(app.db.sql, app.slack.teamId, MARKETER, { ...content(name, stage), ...(body ? { body } : {}) });
  return row!.id;
}

export async function createSegment(app: TestApp, name: string, rule: Rule = { type: 'all', rules: [] }): Promise<number> {
  const row = await insertSegment(app.db.sql, { teamId: app.slack.teamId, name, rule, includeSuppressed: false, userId: MARKETER });
  return row!.id;
}

/** A sequence written straight to the database (for tests about what comes after the builder). */
export async function createSequence(app: TestApp, definition: Partial<SequenceDefinition> & { name: string }, steps: readonly StepDefinition[] = []): Promise<{ id: number; stepIds: number[] }> {
  const team = app.slack.teamId;
  const id = (await insertSequence(app.db.sql, team, MARKETER, {
    goal: null,
    goalEvent: null,
    trigger: { kind: 'manual' },
    sendWindow: DEFAULT_SEND_WINDOW,
    senderName: null,
    replyTo: null,
    reenrollAfterDays: null,
    ...definition,
  }))!;
  const stepIds: number[] = [];
  for (const step of steps) stepIds.push(await insertStep(app.db.sql, team, id, step));
  return { id, stepIds };
}

export const step = (templateId: number, delayDays: number, extra: Partial<StepDefinition> = {}): StepDefinition => ({
  templateId,
  delayMinutes: delayDays * 1440,
  delayFrom: 'previous',
  condition: null,
  ...extra,
});

export const say = async (app: TestApp, userId: string, text: string) => replyText((await app.command(userId, text)).reply.body);

/** `/nurture <text>` that opens a modal; resolves with the view Slack shows. */
export async function openModal(app: TestApp, userId: string, text: string): Promise<View> {
  const triggerId = app.slack.newTriggerId();
  const result = await app.requests.command({ teamId: app.slack.teamId, userId, channelId: 'C0GENERAL', text, responseUrl: app.slack.responseUrl(), triggerId });
  expect(result.status).toBe(200);
  const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
  return opened.response.view as View;
}

/** The first accepted call of `method` after call number `since` whose view satisfies `until`. */
export function viewCall(app: TestApp, since: number, method: 'views.update' | 'views.push', until: (view: View) => boolean): Promise<RecordedCall> {
  return waitFor(() => app.slack.calls.slice(since).find((call) => call.method === method && call.ok && until(call.response.view as View)), {
    description: `a ${method} matching ${until.toString()}`,
  });
}

/** A click or choice in an open modal; resolves with the view that the app then shows (updated or pushed). */
export async function act(app: TestApp, view: View, action: Omit<ViewActionOptions, 'viewId'>, method: 'views.update' | 'views.push', until: (view: View) => boolean = () => true): Promise<View> {
  const since = app.slack.calls.length;
  expect(await app.interaction(app.slack.viewAction({ viewId: view.id, ...action }))).toBe('');
  return (await viewCall(app, since, method, until)).response.view as View;
}

/** Every value of the details form, as a person who filled in all of it submits it (Slack sends what the inputs hold). */
export function detailsValues(values: Partial<Record<keyof typeof DetailsBlockIds, string | string[]>>): Record<string, string | string[]> {
  const filled: Partial<Record<keyof typeof DetailsBlockIds, string | string[]>> = {
    trigger: 'manual',
    days: ['1', '2', '3', '4', '5'],
    start: '09:00',
    end: '17:00',
    holidays: 'none',
    reenroll: 'never',
    ...values,
  };
  return Object.fromEntries(Object.entries(filled).map(([key, value]) => [DetailsBlockIds[key as keyof typeof DetailsBlockIds], value!]));
}

export function stepValues(values: Partial<Record<keyof typeof StepBlockIds, string | string[]>>): Record<string, string | string[]> {
  const filled: Partial<Record<keyof typeof StepBlockIds, string | string[]>> = { unit: 'days', from: 'previous', condition: 'none', ...values };
  return Object.fromEntries(Object.entries(filled).map(([key, value]) => [StepBlockIds[key as keyof typeof StepBlockIds], value!]));
}

/** Submits a modal; resolves with the ack body ('' when it simply closed), which the fake Slack then shows as Slack would. */
export async function submit(app: TestApp, view: View, userId: string, values: Record<string, string | string[]>): Promise<unknown> {
  const ack = await app.interaction(app.slack.viewSubmission({ viewId: view.id, userId, values }));
  app.slack.applySubmissionAck(view.id, ack);
  return ack;
}

/** "Add a step" (or a step's "Edit") in the builder, the step form filled in and saved; resolves with the builder drawn again. */
export async function saveStepInBuilder(app: TestApp, builder: View, userId: string, values: Record<string, string | string[]>, edit?: number): Promise<View> {
  const form = await act(
    app,
    builder,
    edit === undefined ? { userId, actionId: ActionIds.sequenceAddStep } : { userId, actionId: ActionIds.sequenceEditStep, blockId: `sequence_step_actions_${edit}` },
    'views.push',
    (view) => view.callback_id === CallbackIds.sequenceStep,
  );
  const since = app.slack.calls.length;
  expect(await submit(app, form, userId, values)).toBe('');
  return (await viewCall(app, since, 'views.update', (view) => view.id === builder.id)).response.view as View;
}

export const blockText = (view: { blocks: Block[] }, blockId: string) => view.blocks.find((block) => block.block_id === blockId)?.text?.text ?? '';
export const stepTexts = (view: View) => view.blocks.filter((block) => /^sequence_step_\d+$/.test(block.block_id ?? '')).map((block) => block.text?.text ?? '');
export const stepIdsShown = (view: View) => view.blocks.filter((block) => /^sequence_step_\d+$/.test(block.block_id ?? '')).map((block) => Number(block.block_id!.slice('sequence_step_'.length)));
