import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds, CallbackIds } from '../../src/slack/ids.ts';
import { insertLead } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import {
  act,
  blockText,
  createSegment,
  createSequence,
  createTemplate,
  detailsValues,
  MARKETER,
  NOBODY,
  openModal,
  REP,
  saveStepInBuilder,
  say,
  setUpWorkspace,
  step,
  stepIdsShown,
  stepTexts,
  stepValues,
  submit,
  viewCall,
  type View,
} from './slack-support.ts';

let app: TestApp;
let thankYou: number;
let caseStudy: number;
let pricing: number;
let readers: number;

beforeAll(async () => {
  app = await startTestApp();
  await setUpWorkspace(app);
  thankYou = await createTemplate(app, 'Thank you', 'awareness');
  caseStudy = await createTemplate(app, 'Case study', 'consideration');
  pricing = await createTemplate(app, 'Pricing', 'decision');
  readers = await createSegment(app, 'Whitepaper readers', { type: 'field', field: 'stage', op: 'equals', value: 'awareness' });
});
afterAll(() => app.stop());

const stored = async (name: string) => {
  const [row] = await app.db.sql`SELECT * FROM sequences WHERE team_id = ${app.slack.teamId} AND name = ${name}`;
  return row!;
};
const storedSteps = (sequenceId: number) =>
  app.db.sql<Array<{ id: number; position: number; template_id: number; delay_minutes: number; delay_from: string; condition: unknown; removed: boolean }>>`
    SELECT id, position, template_id, delay_minutes, delay_from, condition, removed_at IS NOT NULL AS removed
    FROM sequence_steps WHERE sequence_id = ${sequenceId} ORDER BY removed_at IS NOT NULL, position`;

/** The builder of a sequence made with createSequence, opened with `/nurture sequence edit`. */
const openBuilder = async (name: string) => {
  const view = await openModal(app, MARKETER, `sequence edit "${name}"`);
  expect(view.callback_id).toBe(CallbackIds.sequenceBuilder);
  return view;
};

describe('the sequence builder', () => {
  it('goes from an empty form to a three-step sequence with a timeline', async () => {
    let form = await openModal(app, MARKETER, 'sequence new');
    expect(form).toMatchObject({ callback_id: CallbackIds.sequenceDetails, title: { text: 'New sequence' }, submit: { text: 'Save and add steps' } });
    // The trigger decides which inputs follow it.
    expect(form.blocks.some((block) => block.block_id === 'sequence_event_name')).toBe(false);
    form = await act(app, form, { userId: MARKETER, actionId: ActionIds.sequenceTriggerInput, value: 'event' }, 'views.update', (view) => view.blocks.some((block) => block.block_id === 'sequence_event_name'));
    expect(form.blocks.some((block) => block.block_id === 'sequence_segment')).toBe(false);

    const ack = (await submit(app, form, MARKETER, detailsValues({
      name: 'Whitepaper follow-up',
      goal: 'Turn whitepaper readers into demo requests',
      goalEvent: 'demo_requested',
      trigger: 'event',
      eventName: 'resource_download',
      eventProperties: 'asset = whitepaper-x',
      holidays: 'jp',
      replyTo: 'mari@kojo.example',
      reenroll: 'never',
    }))) as { response_action: string; view: View };
    // Saved as a draft, and the modal becomes its builder.
    expect(ack.response_action).toBe('update');
    expect(ack.view.callback_id).toBe(CallbackIds.sequenceBuilder);
    expect(blockText(ack.view, 'sequence_summary')).toContain('*Whitepaper follow-up* · :memo: draft');
    expect(blockText(ack.view, 'sequence_timeline')).toBe('*Timeline*\n_No steps yet._');
    expect(JSON.stringify(ack.view.blocks)).toContain('a lead does `resource_download` with asset = whitepaper-x');
    expect(JSON.stringify(ack.view.blocks)).toContain('weekdays 09:00–17:00 in the lead\'s own time zone, not on Japanese national holidays');
    const sequence = await stored('Whitepaper follow-up');
    expect(sequence).toMatchObject({
      status: 'draft',
      goal: 'Turn whitepaper readers into demo requests',
      goal_event: 'demo_requested',
      trigger: { kind: 'event', name: 'resource_download', properties: { asset: 'whitepaper-x' } },
      trigger_segment_id: null,
      send_window: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', holidays: 'jp' },
      reply_to: 'mari@kojo.example',
      reenroll_after_days: null,
      created_by: MARKETER,
    });
    // The fake Slack now shows the builder in that modal (submit() handed it the ack).
    let builder = { ...ack.view, id: form.id } as View;

    builder = await saveStepInBuilder(app, builder, MARKETER, stepValues({ template: String(thankYou), delay: '0' }));
    expect(blockText(builder, 'sequence_timeline')).toBe('*Timeline*\nDay 0 Thank you');
    builder = await saveStepInBuilder(app, builder, MARKETER, stepValues({ template: String(caseStudy), delay: '3' }));
    // The third step waits for a click that did not come: the form shows the condition's inputs only when chosen.
    const form3 = await act(app, builder, { userId: MARKETER, actionId: ActionIds.sequenceAddStep }, 'views.push', (view) => view.callback_id === CallbackIds.sequenceStep);
    expect(form3.title).toMatchObject({ text: 'New step' });
    const since = app.slack.calls.length;
    expect(await submit(app, form3, MARKETER, stepValues({ template: String(pricing), delay: '7', from: 'enrollment', condition: 'previous_not_clicked' }))).toBe('');
    builder = (await viewCall(app, since, 'views.update', (view) => view.id === builder.id)).response.view as View;

    expect(blockText(builder, 'sequence_timeline')).toBe('*Timeline*\nDay 0 Thank you · Day 3 Case study · Day 7 Pricing');
    expect(stepTexts(builder)).toEqual([
      '*1.* *Thank you* _(awareness)_ — right at enrollment',
      '*2.* *Case study* _(consideration)_ — 3 days after the previous step',
      '*3.* *Pricing* _(decision)_ — 7 days after enrollment · only if the previous email was not clicked',
    ]);
    expect(await storedSteps(sequence.id)).toEqual([
      expect.objectContaining({ position: 1, template_id: thankYou, delay_minutes: 0, delay_from: 'previous', condition: null }),
      expect.objectContaining({ position: 2, template_id: caseStudy, delay_minutes: 4320, delay_from: 'previous', condition: null }),
      expect.objectContaining({ position: 3, template_id: pricing, delay_minutes: 10080, delay_from: 'enrollment', condition: { kind: 'previous_not_clicked' } }),
    ]);
    const audit = await app.db.sql`SELECT action FROM audit_log WHERE team_id = ${app.slack.teamId} AND subject = ${String(sequence.id)} ORDER BY id`;
    expect(audit.map((row) => row.action)).toEqual(['sequence.created', 'sequence.step_added', 'sequence.step_added', 'sequence.step_added']);
    expect(app.slack.rejections).toEqual([]);
  });

  it('edits a step in place, with a condition whose inputs appear when it is chosen', async () => {
    const { id, stepIds } = await createSequence(app, { name: 'Stage check' }, [step(thankYou, 0), step(caseStudy, 2)]);
    const builder = await openBuilder('Stage check');
    let form = await act(app, builder, { userId: MARKETER, actionId: ActionIds.sequenceEditStep, blockId: `sequence_step_actions_${stepIds[1]}` }, 'views.push');
    expect(form.title).toMatchObject({ text: 'Step 2' });
    expect(form.blocks.find((block) => block.block_id === 'step_template')?.element).toMatchObject({ initial_option: { value: String(caseStudy) } });
    expect(form.blocks.find((block) => block.block_id === 'step_delay')?.element).toMatchObject({ initial_value: '2' });
    form = await act(app, form, { userId: MARKETER, actionId: ActionIds.sequenceStepConditionInput, value: 'stage' }, 'views.update', (view) => view.blocks.some((block) => block.block_id === 'step_stages'));
    const since = app.slack.calls.length;
    expect(await submit(app, form, MARKETER, stepValues({ template: String(caseStudy), delay: '36', unit: 'hours', condition: 'stage', stages: ['consideration', 'decision'] }))).toBe('');
    const redrawn = (await viewCall(app, since, 'views.update', (view) => view.id === builder.id)).response.view as View;
    expect(stepTexts(redrawn)[1]).toBe('*2.* *Case study* _(consideration)_ — 36 hours after the previous step · only if the lead is in consideration or decision');
    expect(blockText(redrawn, 'sequence_timeline')).toBe('*Timeline*\nDay 0 Thank you · Day 1 +12h Case study');
    // The same step, changed: its id (the ledger's source_step) stays.
    expect(await storedSteps(id)).toEqual([
      expect.objectContaining({ id: stepIds[0], position: 1 }),
      expect.objectContaining({ id: stepIds[1], position: 2, delay_minutes: 2160, condition: { kind: 'stage', stages: ['consideration', 'decision'] } }),
    ]);
  });

  it('reorders and removes steps, keeping their ids and the removed one’s row', async () => {
    const { id, stepIds } = await createSequence(app, { name: 'Reorder me' }, [step(thankYou, 0), step(caseStudy, 3), step(pricing, 4)]);
    let builder = await openBuilder('Reorder me');
    expect(blockText(builder, 'sequence_timeline')).toBe('*Timeline*\nDay 0 Thank you · Day 3 Case study · Day 7 Pricing');
    // The first step has no "Move up", the last no "Move down".
    const buttons = (stepId: number) => (builder.blocks.find((block) => block.block_id === `sequence_step_actions_${stepId}`)?.elements ?? []).map((element) => element.action_id);
    expect(buttons(stepIds[0]!)).toEqual([ActionIds.sequenceEditStep, ActionIds.sequenceMoveStepDown, ActionIds.sequenceRemoveStep]);
    expect(buttons(stepIds[2]!)).toEqual([ActionIds.sequenceEditStep, ActionIds.sequenceMoveStepUp, ActionIds.sequenceRemoveStep]);

    builder = await act(app, builder, { userId: MARKETER, actionId: ActionIds.sequenceMoveStepUp, blockId: `sequence_step_actions_${stepIds[2]}` }, 'views.update');
    expect(stepIdsShown(builder)).toEqual([stepIds[0], stepIds[2], stepIds[1]]);
    expect(blockText(builder, 'sequence_timeline')).toBe('*Timeline*\nDay 0 Thank you · Day 4 Pricing · Day 7 Case study');
    builder = await act(app, builder, { userId: MARKETER, actionId: ActionIds.sequenceMoveStepDown, blockId: `sequence_step_actions_${stepIds[0]}` }, 'views.update');
    expect(stepIdsShown(builder)).toEqual([stepIds[2], stepIds[0], stepIds[1]]);

    builder = await act(app, builder, { userId: MARKETER, actionId: ActionIds.sequenceRemoveStep, blockId: `sequence_step_actions_${stepIds[0]}` }, 'views.update');
    expect(stepIdsShown(builder)).toEqual([stepIds[2], stepIds[1]]);
    expect(stepTexts(builder)).toEqual(['*1.* *Pricing* _(decision)_ — 4 days after enrollment', '*2.* *Case study* _(consideration)_ — 3 days after the previous step']);
    expect(await storedSteps(id)).toEqual([
      expect.objectContaining({ id: stepIds[2], position: 1, removed: false }),
      expect.objectContaining({ id: stepIds[1], position: 2, removed: false }),
      expect.objectContaining({ id: stepIds[0], removed: true }),
    ]);
    const audit = await app.db.sql`SELECT action, details FROM audit_log WHERE team_id = ${app.slack.teamId} AND subject = ${String(id)} ORDER BY id`;
    expect(audit.map((row) => row.action)).toEqual(['sequence.step_moved', 'sequence.step_moved', 'sequence.step_removed']);
    expect(audit[0]!.details).toEqual({ stepId: stepIds[2], from: 3, to: 2 });
  });

  it('changes an active sequence: the people in it go on with the new steps', async () => {
    const { id, stepIds } = await createSequence(app, { name: 'Live one' }, [step(thankYou, 0), step(caseStudy, 3)]);
    await app.db.sql`UPDATE sequences SET status = 'active' WHERE id = ${id}`;
    const lead = await insertLead(app.db.sql, app.slack.teamId);
    await app.db.sql`
      INSERT INTO sequence_runs (team_id, sequence_id, lead_id, enrolled_by, enrolled_at, next_step_id, due_at)
      VALUES (${app.slack.teamId}, ${id}, ${lead.id}, ${MARKETER}, now(), ${stepIds[0]!}, now() + interval '1 hour')`;
    const builder = await openBuilder('Live one');
    expect(JSON.stringify(builder.blocks)).toContain('Changes apply to the people in it from their next step');
    const redrawn = await act(app, builder, { userId: MARKETER, actionId: ActionIds.sequenceRemoveStep, blockId: `sequence_step_actions_${stepIds[0]}` }, 'views.update');
    expect(stepIdsShown(redrawn)).toEqual([stepIds[1]]);
    // The run waited for the removed step: it now waits for the one after it.
    const [run] = await app.db.sql`SELECT next_step_id FROM sequence_runs WHERE sequence_id = ${id}`;
    expect(run!.next_step_id).toBe(stepIds[1]);
  });

  it('shows what is wrong beside the fields, and saves nothing until it is right', async () => {
    await createSequence(app, { name: 'Taken' });
    const form = await openModal(app, MARKETER, 'sequence new');
    const before = (await app.db.sql`SELECT count(*)::int AS n FROM sequences`)[0]!.n;
    const errorsFor = async (values: Record<string, string | string[]>) => ((await submit(app, form, MARKETER, detailsValues(values))) as { response_action: string; errors: Record<string, string> });

    expect(await errorsFor({ name: 'Window', start: '17:00', end: '09:00', goalEvent: 'demo requested!' })).toEqual({
      response_action: 'errors',
      errors: { sequence_end: 'The window must end after it starts.', sequence_goal_event: 'Event names look like resource_download.' },
    });
    expect(await errorsFor({ name: 'taken' })).toEqual({
      response_action: 'errors',
      errors: { sequence_name: 'There is already a sequence called "taken". Pick another name, or change that one with `/nurture sequence edit`.' },
    });
    expect((await app.db.sql`SELECT count(*)::int AS n FROM sequences`)[0]!.n).toBe(before);

    // The event trigger's inputs, once shown, are checked too.
    const eventForm = await act(app, form, { userId: MARKETER, actionId: ActionIds.sequenceTriggerInput, value: 'event' }, 'views.update', (view) => view.blocks.some((block) => block.block_id === 'sequence_event_name'));
    expect(await submit(app, eventForm, MARKETER, detailsValues({ name: 'Event', trigger: 'event', eventName: 'resource_download', eventProperties: 'asset whitepaper' }))).toEqual({
      response_action: 'errors',
      errors: { sequence_event_properties: 'Write each filter as name = value, e.g. asset = whitepaper-x ("asset whitepaper" is not).' },
    });
  });

  it('checks each step before it is saved', async () => {
    await createSequence(app, { name: 'Careful steps' }, [step(thankYou, 0)]);
    const builder = await openBuilder('Careful steps');
    let form = await act(app, builder, { userId: MARKETER, actionId: ActionIds.sequenceAddStep }, 'views.push');
    expect(await submit(app, form, MARKETER, stepValues({ template: String(caseStudy), delay: '400' }))).toEqual({ response_action: 'errors', errors: { step_delay: 'A step waits at most a year.' } });
    form = await act(app, form, { userId: MARKETER, actionId: ActionIds.sequenceStepConditionInput, value: 'not_visited' }, 'views.update', (view) => view.blocks.some((block) => block.block_id === 'step_page'));
    expect(await submit(app, form, MARKETER, stepValues({ template: String(caseStudy), delay: '2', condition: 'not_visited', page: 'pricing', pageDays: '30' }))).toEqual({
      response_action: 'errors',
      errors: { step_page: 'Page patterns start with / , e.g. /pricing.' },
    });
    const [count] = await app.db.sql`SELECT count(*)::int AS n FROM sequence_steps s JOIN sequences q ON q.id = s.sequence_id WHERE q.name = 'Careful steps'`;
    expect(count!.n).toBe(1);
  });

  it('opens the details form on top of the builder and draws the builder again after it is saved', async () => {
    const { id } = await createSequence(app, { name: 'Rename me' }, [step(thankYou, 0)]);
    const builder = await openBuilder('Rename me');
    const form = await act(app, builder, { userId: MARKETER, actionId: ActionIds.sequenceEditDetails }, 'views.push');
    expect(form).toMatchObject({ callback_id: CallbackIds.sequenceDetails, title: { text: 'Sequence details' } });
    expect(form.blocks.find((block) => block.block_id === 'sequence_name')?.element).toMatchObject({ initial_value: 'Rename me' });
    let segmentForm = await act(app, form, { userId: MARKETER, actionId: ActionIds.sequenceTriggerInput, value: 'segment' }, 'views.update', (view) => view.blocks.some((block) => block.block_id === 'sequence_segment'));
    segmentForm = await act(app, segmentForm, { userId: MARKETER, actionId: ActionIds.sequenceReenrollInput, value: 'after' }, 'views.update', (view) => view.blocks.some((block) => block.block_id === 'sequence_reenroll_days'));
    const since = app.slack.calls.length;
    expect(await submit(app, segmentForm, MARKETER, detailsValues({ name: 'Renamed', trigger: 'segment', segment: String(readers), reenroll: 'after', reenrollDays: '90' }))).toBe('');
    const redrawn = (await viewCall(app, since, 'views.update', (view) => view.id === builder.id)).response.view as View;
    expect(blockText(redrawn, 'sequence_summary')).toContain('*Renamed*');
    expect(JSON.stringify(redrawn.blocks)).toContain('a lead enters the segment *Whitepaper readers*');
    expect(await stored('Renamed')).toMatchObject({ id, trigger: { kind: 'segment', segmentId: readers }, trigger_segment_id: readers, reenroll_after_days: 90 });
  });

  it('lets only marketers and admins build and change sequences', async () => {
    expect(await say(app, REP, 'sequence new')).toMatch(/^Building sequences needs one of these roles: \*marketer\*/);
    expect(await say(app, NOBODY, 'sequence edit "Reorder me"')).toMatch(/^Changing sequences needs one of these roles: \*marketer\*/);
    // A builder left open by someone who lost the role meanwhile: the click is refused on the builder itself.
    const { stepIds } = await createSequence(app, { name: 'Role check' }, [step(thankYou, 0), step(caseStudy, 1)]);
    const builder = await openBuilder('Role check');
    const refused = await act(app, builder, { userId: REP, actionId: ActionIds.sequenceMoveStepUp, blockId: `sequence_step_actions_${stepIds[1]}` }, 'views.update');
    expect(blockText(refused, 'sequence_notice')).toMatch(/^:warning: Changing sequences needs one of these roles: \*marketer\*/);
    expect(stepIdsShown(refused)).toEqual(stepIds);
  });
});
