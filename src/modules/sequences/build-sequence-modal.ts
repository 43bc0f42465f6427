import type { Button, InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { z } from 'zod';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { clip, escapeMrkdwn, SECTION_MAX_CHARS } from '../../slack/mrkdwn.ts';
import { STATUS_WORDS, stepLine, timelineText, triggerText, windowText, type StepTemplate } from './build-sequence-messages.ts';
import { MAX_STEPS } from './sequence-definitions.ts';
import {
  CONDITION_KINDS,
  DetailsBlockIds,
  StepBlockIds,
  type ConditionKind,
  type DelayUnit,
  type DetailsForm,
  type StepForm,
  type TriggerKind,
} from './sequence-forms.ts';
import type { Sequence } from './sequence.ts';

/**
 * The sequence builder, as three modals. The details form (name, goal, trigger, window, sender,
 * re-enrollment) opens first; saving it saves a draft and turns the modal into the builder, which lists
 * the steps with a timeline and buttons to add, edit, move and remove them. A step is edited in a form
 * pushed on top. Steps are saved as they are made (a modal cannot hold a growing list of inputs well, and
 * nothing is lost when it is closed).
 */

/** A static select holds at most 100 options. */
const MAX_OPTIONS = 100;

const option = (text: string, value: string): PlainTextOption => ({ text: { type: 'plain_text', text: clip(text, 75) }, value });
const plain = (text: string) => ({ type: 'plain_text' as const, text });

/** Carried in the details form: the sequence it changes (none: a new one) and the builder under it. */
export const DetailsMetadataSchema = z.object({ sequenceId: z.number().int().positive().optional(), builderViewId: z.string().min(1).optional() });
export type DetailsMetadata = z.infer<typeof DetailsMetadataSchema>;
export const BuilderMetadataSchema = z.object({ sequenceId: z.number().int().positive() });
export type BuilderMetadata = z.infer<typeof BuilderMetadataSchema>;
/** The step it changes (none: a new one, placed last), its place, and the builder under it. */
export const StepMetadataSchema = z.object({
  sequenceId: z.number().int().positive(),
  stepId: z.number().int().positive().optional(),
  position: z.number().int().positive(),
  builderViewId: z.string().min(1),
});
export type StepMetadata = z.infer<typeof StepMetadataSchema>;

/** private_metadata read back with its schema; undefined when it is not ours (or from an older form). */
export function readMetadata<T>(schema: z.ZodType<T>, text: string | undefined): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

// ---- the details form --------------------------------------------------------------------------------

const TRIGGER_OPTIONS: Record<TriggerKind, PlainTextOption> = {
  segment: option('A lead enters a segment', 'segment'),
  event: option('A lead does something (an event)', 'event'),
  manual: option('Someone enrolls leads by hand', 'manual'),
};
const DAY_OPTIONS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].map((day, index) => option(day, String(index + 1)));
const HOLIDAY_OPTIONS = { none: option('No holiday calendar', 'none'), jp: option('Skip Japanese national holidays', 'jp') };
const REENROLL_OPTIONS = { never: option('Never: once per lead', 'never'), after: option('Again, some days after their last run ended', 'after') };

export interface DetailsChoices {
  segments: ReadonlyArray<{ id: number; name: string }>;
}

const textInput = (
  blockId: string,
  actionId: string,
  label: string,
  initial: string | undefined,
  extra: { optional?: boolean; maxLength?: number; multiline?: boolean; placeholder?: string; hint?: string } = {},
): InputBlock => ({
  type: 'input',
  block_id: blockId,
  optional: extra.optional ?? false,
  label: plain(label),
  element: {
    type: 'plain_text_input',
    action_id: actionId,
    ...(extra.maxLength ? { max_length: extra.maxLength } : {}),
    ...(extra.multiline ? { multiline: true } : {}),
    ...(initial ? { initial_value: initial } : {}),
    ...(extra.placeholder ? { placeholder: plain(extra.placeholder) } : {}),
  },
  ...(extra.hint ? { hint: plain(extra.hint) } : {}),
});

/** A select that redraws the form when changed: the inputs it needs appear below it. */
const dispatchingSelect = (blockId: string, actionId: string, label: string, options: PlainTextOption[], initial: PlainTextOption): InputBlock => ({
  type: 'input',
  block_id: blockId,
  dispatch_action: true,
  label: plain(label),
  element: { type: 'static_select', action_id: actionId, options, initial_option: initial },
});

/** `/nurture sequence new` (metadata without a sequence), or "Edit details" on the builder. */
export function buildSequenceDetailsModal(form: DetailsForm, choices: DetailsChoices, metadata: DetailsMetadata): ModalView {
  const B = DetailsBlockIds;
  const blocks: KnownBlock[] = [
    textInput(B.name, ActionIds.sequenceNameInput, 'Name', form.name, { maxLength: 80, placeholder: 'e.g. Whitepaper follow-up' }),
    textInput(B.goal, ActionIds.sequenceGoalInput, 'Goal', form.goal, { optional: true, maxLength: 300, multiline: true, placeholder: 'e.g. Turn whitepaper readers into demo requests' }),
    textInput(B.goalEvent, ActionIds.sequenceGoalEventInput, 'Goal event', form.goalEvent, {
      optional: true,
      maxLength: 64,
      placeholder: 'e.g. demo_requested',
      hint: 'When a lead does this, they have reached the goal and leave the sequence.',
    }),
    dispatchingSelect(B.trigger, ActionIds.sequenceTriggerInput, 'Who goes through it', Object.values(TRIGGER_OPTIONS), TRIGGER_OPTIONS[form.trigger]),
    ...triggerInputs(form, choices),
    {
      type: 'input',
      block_id: B.days,
      label: plain('Send on'),
      element: {
        type: 'checkboxes',
        action_id: ActionIds.sequenceDaysInput,
        options: DAY_OPTIONS,
        ...(form.days.length > 0 ? { initial_options: DAY_OPTIONS.filter((day) => form.days.includes(day.value!)) } : {}),
      },
    },
    {
      type: 'input',
      block_id: B.start,
      label: plain('From'),
      element: { type: 'timepicker', action_id: ActionIds.sequenceStartInput, ...(form.start ? { initial_time: form.start } : {}) },
    },
    {
      type: 'input',
      block_id: B.end,
      label: plain('Until'),
      element: { type: 'timepicker', action_id: ActionIds.sequenceEndInput, ...(form.end ? { initial_time: form.end } : {}) },
      hint: plain('On each lead’s own clock (the workspace’s time zone when theirs is unknown). A step due outside these hours goes out at the next opening.'),
    },
    {
      type: 'input',
      block_id: B.holidays,
      label: plain('Holidays'),
      element: { type: 'static_select', action_id: ActionIds.sequenceHolidaysInput, options: Object.values(HOLIDAY_OPTIONS), initial_option: HOLIDAY_OPTIONS[form.holidays] },
    },
    textInput(B.senderName, ActionIds.sequenceSenderNameInput, 'Sender name', form.senderName, { optional: true, maxLength: 80, hint: 'Empty: the workspace’s sender name (/nurture settings).' }),
    {
      type: 'input',
      block_id: B.replyTo,
      optional: true,
      label: plain('Replies go to'),
      element: { type: 'email_text_input', action_id: ActionIds.sequenceReplyToInput, ...(form.replyTo ? { initial_value: form.replyTo } : {}), placeholder: plain('e.g. mari@yourcompany.com') },
      hint: plain('A person who reads them, rather than a no-reply address.'),
    },
    dispatchingSelect(B.reenroll, ActionIds.sequenceReenrollInput, 'Can a lead go through it again?', Object.values(REENROLL_OPTIONS), REENROLL_OPTIONS[form.reenroll]),
  ];
  if (form.reenroll === 'after') {
    blocks.push({
      type: 'input',
      block_id: B.reenrollDays,
      label: plain('Days after their last run ended'),
      element: {
        type: 'number_input',
        action_id: ActionIds.sequenceReenrollDaysInput,
        is_decimal_allowed: false,
        min_value: '1',
        max_value: '3650',
        ...(form.reenrollDays ? { initial_value: form.reenrollDays } : {}),
      },
    });
  }
  const creating = metadata.sequenceId === undefined;
  return {
    type: 'modal',
    callback_id: CallbackIds.sequenceDetails,
    private_metadata: JSON.stringify(metadata),
    title: plain(creating ? 'New sequence' : 'Sequence details'),
    submit: plain(creating ? 'Save and add steps' : 'Save'),
    close: plain(creating ? 'Cancel' : 'Back'),
    blocks,
  };
}

function triggerInputs(form: DetailsForm, choices: DetailsChoices): KnownBlock[] {
  const B = DetailsBlockIds;
  switch (form.trigger) {
    case 'segment': {
      if (choices.segments.length === 0) {
        return [{ type: 'section', block_id: B.segment, text: { type: 'mrkdwn', text: ':warning: There are no segments yet. Build one with `/nurture segment new`, or choose another way in.' } }];
      }
      const options = choices.segments.slice(0, MAX_OPTIONS).map((segment) => option(segment.name, String(segment.id)));
      const initial = options.find((candidate) => candidate.value === form.segmentId);
      const more = choices.segments.length > MAX_OPTIONS ? ` The first ${MAX_OPTIONS} of ${choices.segments.length} segments are listed.` : '';
      return [
        {
          type: 'input',
          block_id: B.segment,
          label: plain('Segment'),
          element: { type: 'static_select', action_id: ActionIds.sequenceSegmentInput, options, ...(initial ? { initial_option: initial } : {}), placeholder: plain('Choose the segment') },
          hint: plain(`A lead who enters it is enrolled. When you activate the sequence you choose whether today’s members go through it too.${more}`),
        },
      ];
    }
    case 'event':
      return [
        textInput(B.eventName, ActionIds.sequenceEventNameInput, 'Event', form.eventName, { maxLength: 64, placeholder: 'e.g. resource_download', hint: 'The name your site or CRM sends to the events API.' }),
        textInput(B.eventProperties, ActionIds.sequenceEventPropertiesInput, 'Only when the event has', form.eventProperties, {
          optional: true,
          maxLength: 1000,
          placeholder: 'e.g. asset = whitepaper-x',
          hint: 'name = value, separated by commas. Empty: any such event enrolls the lead.',
        }),
      ];
    case 'manual':
      return [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'Enroll leads with `/nurture sequence enroll <sequence> <email or segment>`.' }] }];
  }
}

// ---- the builder --------------------------------------------------------------------------------------

export const BuilderBlockIds = {
  notice: 'sequence_notice',
  summary: 'sequence_summary',
  timeline: 'sequence_timeline',
  add: 'sequence_add',
  step: (stepId: number) => `sequence_step_${stepId}`,
  stepActions: (stepId: number) => `sequence_step_actions_${stepId}`,
} as const;

export interface BuilderFacts {
  sequence: Sequence;
  templates: ReadonlyMap<number, StepTemplate>;
  /** The trigger's segment; null when it no longer exists. */
  segmentName?: string | null;
  /** Something to tell the person above everything (a refusal of their last click). */
  notice?: string;
}

/** The sequence with its steps, a timeline, and buttons for everything. Rebuilt from the database on every change. */
export function buildSequenceBuilderModal({ sequence, templates, segmentName, notice }: BuilderFacts): ModalView {
  const value = String(sequence.id);
  const button = (actionId: string, text: string, buttonValue: string, style?: 'primary' | 'danger'): Button => ({
    type: 'button',
    action_id: actionId,
    text: plain(text),
    value: buttonValue,
    ...(style ? { style } : {}),
  });
  const blocks: KnownBlock[] = [];
  if (notice) blocks.push({ type: 'section', block_id: BuilderBlockIds.notice, text: { type: 'mrkdwn', text: clip(`:warning: ${notice}`, SECTION_MAX_CHARS) } });
  blocks.push(
    {
      type: 'section',
      block_id: BuilderBlockIds.summary,
      text: { type: 'mrkdwn', text: clip(`*${escapeMrkdwn(sequence.name)}* · ${STATUS_WORDS[sequence.status]}${sequence.goal ? `\n${escapeMrkdwn(sequence.goal)}` : ''}`, SECTION_MAX_CHARS) },
      accessory: button(ActionIds.sequenceEditDetails, 'Edit details', value),
    },
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: clip(`*Starts when* ${triggerText(sequence.trigger, segmentName)}`, 3000) },
        { type: 'mrkdwn', text: `*Sends* ${windowText(sequence.sendWindow)}` },
      ],
    },
    { type: 'divider' },
    { type: 'section', block_id: BuilderBlockIds.timeline, text: { type: 'mrkdwn', text: clip(`*Timeline*\n${timelineText(sequence.steps, templates)}`, SECTION_MAX_CHARS) } },
  );
  sequence.steps.forEach((step, index) => {
    const stepValue = String(step.id);
    const buttons = [button(ActionIds.sequenceEditStep, 'Edit', stepValue)];
    if (index > 0) buttons.push(button(ActionIds.sequenceMoveStepUp, 'Move up', stepValue));
    if (index < sequence.steps.length - 1) buttons.push(button(ActionIds.sequenceMoveStepDown, 'Move down', stepValue));
    buttons.push({
      ...button(ActionIds.sequenceRemoveStep, 'Remove', stepValue, 'danger'),
      confirm: {
        title: plain('Remove this step?'),
        text: plain(clip(`Step ${index + 1} (${templates.get(step.templateId)?.name ?? 'its email'}) will not be sent any more.`, 300)),
        confirm: plain('Remove'),
        deny: plain('Keep it'),
        style: 'danger',
      },
    });
    blocks.push(
      { type: 'section', block_id: BuilderBlockIds.step(step.id), text: { type: 'mrkdwn', text: clip(stepLine(step, index, templates.get(step.templateId)), SECTION_MAX_CHARS) } },
      { type: 'actions', block_id: BuilderBlockIds.stepActions(step.id), elements: buttons },
    );
  });
  if (sequence.steps.length < MAX_STEPS) {
    blocks.push({ type: 'actions', block_id: BuilderBlockIds.add, elements: [button(ActionIds.sequenceAddStep, 'Add a step', value, 'primary')] });
  } else {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `A sequence has at most ${MAX_STEPS} steps.` }] });
  }
  const quoted = `"${sequence.name.replace(/"/g, '')}"`;
  const afterwards =
    sequence.status === 'draft'
      ? `Everything is saved as you go. When it is ready: \`/nurture sequence activate ${escapeMrkdwn(quoted)}\` (it checks every step first).`
      : 'Everything is saved as you go. Changes apply to the people in it from their next step; nobody gets a step again that they already had.';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: afterwards }] });
  return {
    type: 'modal',
    callback_id: CallbackIds.sequenceBuilder,
    private_metadata: JSON.stringify({ sequenceId: sequence.id } satisfies BuilderMetadata),
    title: plain('Sequence builder'),
    close: plain('Done'),
    blocks,
  };
}

// ---- the step form ------------------------------------------------------------------------------------

const UNIT_OPTIONS: Record<DelayUnit, PlainTextOption> = { minutes: option('minutes', 'minutes'), hours: option('hours', 'hours'), days: option('days', 'days') };
const FROM_OPTIONS = { previous: option('after the previous step', 'previous'), enrollment: option('after enrollment', 'enrollment') };
const CONDITION_OPTIONS: Record<ConditionKind, PlainTextOption> = {
  none: option('Always send it', 'none'),
  previous_not_clicked: option('Only if the previous email was not clicked', 'previous_not_clicked'),
  previous_not_opened: option('Only if the previous email was not opened', 'previous_not_opened'),
  stage: option('Only if the lead is in certain stages', 'stage'),
  not_visited: option('Skip it if the lead visited a page', 'not_visited'),
};
const STAGE_OPTIONS = ['awareness', 'consideration', 'decision'].map((stage) => option(stage, stage));

export interface StepChoices {
  templates: ReadonlyArray<{ id: number; name: string; stage: string }>;
}

export function buildSequenceStepModal(form: StepForm, choices: StepChoices, metadata: StepMetadata): ModalView {
  const B = StepBlockIds;
  const templates = choices.templates.slice(0, MAX_OPTIONS).map((template) => option(`${template.name} · ${template.stage}`, String(template.id)));
  const chosen = templates.find((candidate) => candidate.value === form.templateId);
  const more = choices.templates.length > MAX_OPTIONS ? ` The first ${MAX_OPTIONS} of ${choices.templates.length} templates are listed.` : '';
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: B.template,
      label: plain('Email'),
      element: { type: 'static_select', action_id: ActionIds.sequenceStepTemplateInput, options: templates, ...(chosen ? { initial_option: chosen } : {}), placeholder: plain('Choose a template') },
      hint: plain(`Each template is written for a buying stage; activation warns when the stages don’t fit the journey.${more}`),
    },
    {
      type: 'input',
      block_id: B.delay,
      label: plain('Wait'),
      element: { type: 'number_input', action_id: ActionIds.sequenceStepDelayInput, is_decimal_allowed: false, min_value: '0', ...(form.delay ? { initial_value: form.delay } : {}) },
    },
    {
      type: 'input',
      block_id: B.unit,
      label: plain('Minutes, hours or days'),
      element: { type: 'static_select', action_id: ActionIds.sequenceStepUnitInput, options: Object.values(UNIT_OPTIONS), initial_option: UNIT_OPTIONS[form.unit] },
    },
    {
      type: 'input',
      block_id: B.from,
      label: plain('Counted from'),
      element: { type: 'radio_buttons', action_id: ActionIds.sequenceStepFromInput, options: Object.values(FROM_OPTIONS), initial_option: FROM_OPTIONS[form.from] },
      ...(metadata.position === 1 ? { hint: plain('For the first step both mean: after the lead is enrolled.') } : {}),
    },
    dispatchingSelect(B.condition, ActionIds.sequenceStepConditionInput, 'Send it', CONDITION_KINDS.map((kind) => CONDITION_OPTIONS[kind]), CONDITION_OPTIONS[form.condition]),
  ];
  if (form.condition === 'stage') {
    blocks.push({
      type: 'input',
      block_id: B.stages,
      label: plain('Stages'),
      element: {
        type: 'multi_static_select',
        action_id: ActionIds.sequenceStepStagesInput,
        options: STAGE_OPTIONS,
        ...(form.stages.length > 0 ? { initial_options: STAGE_OPTIONS.filter((stage) => form.stages.includes(stage.value!)) } : {}),
      },
      hint: plain('A lead in another stage when the step is due skips it and goes on to the next one.'),
    });
  }
  if (form.condition === 'not_visited') {
    blocks.push(textInput(B.page, ActionIds.sequenceStepPageInput, 'Page', form.page, { maxLength: 300, placeholder: 'e.g. /pricing', hint: 'A path on your site; * matches anything, e.g. /products/*.' }), {
      type: 'input',
      block_id: B.pageDays,
      label: plain('Visited in the last … days'),
      element: { type: 'number_input', action_id: ActionIds.sequenceStepPageDaysInput, is_decimal_allowed: false, min_value: '1', max_value: '365', initial_value: form.pageDays ?? '30' },
    });
  }
  return {
    type: 'modal',
    callback_id: CallbackIds.sequenceStep,
    private_metadata: JSON.stringify(metadata),
    title: plain(metadata.stepId === undefined ? 'New step' : `Step ${metadata.position}`),
    submit: plain('Save step'),
    close: plain('Back'),
    blocks,
  };
}

/** What is left to say when the builder's sequence is gone, or the person may not change it. */
export function buildSequenceNoticeModal(text: string): ModalView {
  return {
    type: 'modal',
    title: plain('Sequence builder'),
    close: plain('Close'),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_MAX_CHARS) } }],
  };
}
