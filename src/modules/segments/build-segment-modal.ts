import type { ActionsBlockElement, InputBlockElement, KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { clip, escapeMrkdwn } from '../../slack/mrkdwn.ts';
import { BUILDER_FIELDS, editorReady, encodeDraft, fieldOf, OP_LABELS, operatorsOf, valueInputsOf, type BuilderDraft, type ValueInput, type ValueSlot } from './builder-draft.ts';
import { memberLine, purposeNote } from './build-segment-messages.ts';
import { describeCondition } from './describe-rule.ts';
import type { MemberRow } from './queries.ts';
import { PREVIEW_TIMEOUT_MS } from './segments.ts';

/** block_ids of the builder; the editor's inputs carry the draft's generation (see BuilderDraft). */
export const SegmentBlockIds = {
  name: 'segment_name',
  description: 'segment_description',
  suppressed: 'segment_suppressed',
  editorError: 'segment_editor_error',
  add: 'segment_add',
  preview: 'segment_preview',
  /** While counting: a different block_id, so a count that never landed is not kept as if it had. */
  previewCounting: 'segment_preview_counting',
  editor: (generation: number) => `segment_editor_${generation}`,
  condition: (index: number) => `segment_condition_${index}`,
  value: (slot: ValueSlot, generation: number) => `segment_${slot}_${generation}`,
} as const;

export const INCLUDE_SUPPRESSED = 'include';
export const MAX_NAME_LENGTH = 80;
export const MAX_DESCRIPTION_LENGTH = 500;

export interface SegmentDetails {
  name?: string;
  description?: string;
  includeSuppressed: boolean;
}

export type PreviewState =
  | { kind: 'counting' }
  | { kind: 'ready'; count: number; sample: MemberRow[]; purpose: 'sending' | 'reporting' }
  | { kind: 'too_slow' }
  /** The preview blocks the view already shows (the rule did not change). */
  | { kind: 'kept'; blocks: KnownBlock[] };

export interface SegmentModalOptions {
  details: SegmentDetails;
  preview: PreviewState;
  /** Why the last "Add condition" did not add one; shown above the button. */
  editorError?: string;
}

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const option = (text: string, value: string): PlainTextOption => ({ text: plain(clip(text, 75)), value });

/** The builder: name, description, reporting switch, the conditions so far, the editor for one more, the live preview. */
export function buildSegmentModal(draft: BuilderDraft, options: SegmentModalOptions): ModalView {
  const { details } = options;
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: SegmentBlockIds.name,
      label: plain('Name'),
      element: {
        type: 'plain_text_input',
        action_id: ActionIds.segmentNameInput,
        max_length: MAX_NAME_LENGTH,
        placeholder: plain('e.g. Mfg VPs considering'),
        ...(details.name ? { initial_value: details.name.slice(0, MAX_NAME_LENGTH) } : {}),
      },
    },
    {
      type: 'input',
      block_id: SegmentBlockIds.description,
      optional: true,
      label: plain('Description'),
      element: {
        type: 'plain_text_input',
        action_id: ActionIds.segmentDescriptionInput,
        multiline: true,
        max_length: MAX_DESCRIPTION_LENGTH,
        placeholder: plain('Who this is for, and why'),
        ...(details.description ? { initial_value: details.description.slice(0, MAX_DESCRIPTION_LENGTH) } : {}),
      },
    },
    suppressedInput(details.includeSuppressed),
    { type: 'divider' },
    { type: 'section', text: { type: 'mrkdwn', text: '*Who is in it* — a lead must match every condition' } },
    ...conditionBlocks(draft),
    ...editorBlocks(draft, options.editorError),
    { type: 'divider' },
    ...previewBlocks(options.preview),
  ];
  return {
    type: 'modal',
    callback_id: CallbackIds.segmentBuilder,
    // Titles are at most 24 characters.
    title: plain(draft.segmentId === undefined ? 'New segment' : 'Edit segment'),
    submit: plain('Save segment'),
    close: plain('Cancel'),
    private_metadata: encodeDraft(draft),
    blocks,
  };
}

function suppressedInput(checked: boolean): KnownBlock {
  const choice = {
    text: { type: 'mrkdwn' as const, text: '*Include unsubscribed, bounced and complained leads* (reporting only)' },
    description: { type: 'plain_text' as const, text: 'For counting and reports. Sending never reaches them.' },
    value: INCLUDE_SUPPRESSED,
  };
  return {
    type: 'input',
    block_id: SegmentBlockIds.suppressed,
    optional: true,
    // Ticking it changes who is counted, so it refreshes the preview.
    dispatch_action: true,
    label: plain('Reporting'),
    element: { type: 'checkboxes', action_id: ActionIds.segmentSuppressedInput, options: [choice], ...(checked ? { initial_options: [choice] } : {}) },
  };
}

function conditionBlocks(draft: BuilderDraft): KnownBlock[] {
  if (draft.conditions.length === 0) {
    return [{ type: 'context', elements: [{ type: 'mrkdwn', text: 'No conditions yet, so every lead is in it. Add one below.' }] }];
  }
  return draft.conditions.map((condition, index) => ({
    type: 'section',
    block_id: SegmentBlockIds.condition(index),
    text: { type: 'mrkdwn', text: `${index === 0 ? '' : '_and_ '}${escapeMrkdwn(describeCondition(condition))}` },
    accessory: {
      type: 'button',
      action_id: ActionIds.segmentConditionRemove,
      text: plain('Remove'),
      value: String(index),
      accessibility_label: clip(`Remove: ${describeCondition(condition)}`, 75),
    },
  }));
}

function editorBlocks(draft: BuilderDraft, error: string | undefined): KnownBlock[] {
  const { editor, generation } = draft;
  const fieldOptions = [...new Set(BUILDER_FIELDS.map((field) => field.group))].map((group) => ({
    label: plain(group),
    options: BUILDER_FIELDS.filter((field) => field.group === group).map((field) => option(field.label, field.key)),
  }));
  const field = fieldOf(editor.field);
  const elements: ActionsBlockElement[] = [
    {
      type: 'static_select',
      action_id: ActionIds.segmentField,
      placeholder: plain('Filter on…'),
      option_groups: fieldOptions,
      ...(field ? { initial_option: option(field.label, field.key) } : {}),
    },
  ];
  if (editor.field === 'attribute') {
    elements.push({
      type: 'external_select',
      action_id: ActionIds.segmentAttribute,
      placeholder: plain('Which attribute?'),
      min_query_length: 0,
      ...(editor.attribute ? { initial_option: option(editor.attribute, editor.attribute) } : {}),
    });
  }
  if (editor.field && (editor.field !== 'attribute' || editor.attribute)) {
    elements.push({
      type: 'static_select',
      action_id: ActionIds.segmentOperator,
      placeholder: plain('How?'),
      options: operatorsOf(editor.field).map((op) => option(OP_LABELS[op] ?? op, op)),
      ...(editor.op ? { initial_option: option(OP_LABELS[editor.op] ?? editor.op, editor.op) } : {}),
    });
  }
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: '*Add a condition*' } },
    { type: 'actions', block_id: SegmentBlockIds.editor(generation), elements },
    ...valueInputsOf(editor).map((input) => valueInputBlock(input, draft)),
  ];
  if (error) blocks.push({ type: 'context', block_id: SegmentBlockIds.editorError, elements: [{ type: 'mrkdwn', text: `:warning: ${escapeMrkdwn(error)}` }] });
  if (editorReady(editor)) {
    blocks.push({
      type: 'actions',
      block_id: SegmentBlockIds.add,
      elements: [{ type: 'button', action_id: ActionIds.segmentConditionAdd, style: 'primary', text: plain('Add condition'), value: String(generation) }],
    });
  }
  return blocks;
}

function valueInputBlock(input: ValueInput, draft: BuilderDraft): KnownBlock {
  const slotActionId = input.slot === 'count' ? ActionIds.segmentCountInput : input.slot === 'days' ? ActionIds.segmentDaysInput : ActionIds.segmentValueInput;
  let element: InputBlockElement;
  let label = 'Value';
  let hint: string | undefined;
  switch (input.element) {
    case 'text':
      element = {
        type: 'plain_text_input',
        action_id: slotActionId,
        max_length: input.list ? 2000 : 200,
        placeholder: plain(input.list ? 'Several values, separated by commas' : 'Type the value'),
      };
      if (input.list) label = 'Values';
      break;
    case 'suggest': {
      const actionId = input.source === 'event' ? ActionIds.segmentEventOptions : input.source === 'page' ? ActionIds.segmentPageOptions : ActionIds.segmentValueOptions;
      const placeholder = input.source === 'page' ? 'Type a path, e.g. /pricing or /products/*' : input.source === 'event' ? 'Type to find the event' : 'Type to find values';
      element = input.multi
        ? { type: 'multi_external_select', action_id: actionId, min_query_length: 0, placeholder: plain(placeholder) }
        : { type: 'external_select', action_id: actionId, min_query_length: input.source === 'page' ? 1 : 0, placeholder: plain(placeholder) };
      label = input.source === 'page' ? 'Page' : input.source === 'event' ? 'Event' : input.multi ? 'Values' : 'Value';
      if (input.source === 'page') hint = 'Pages people visited; what you type is offered too, with * matching anything.';
      break;
    }
    case 'choice':
      element = input.multi
        ? { type: 'multi_static_select', action_id: slotActionId, placeholder: plain('Choose'), options: input.choices.map((choice) => option(choice, choice)) }
        : { type: 'static_select', action_id: slotActionId, placeholder: plain('Choose'), options: input.choices.map((choice) => option(choice, choice)) };
      break;
    case 'date':
      element = { type: 'datepicker', action_id: slotActionId, placeholder: plain('Pick a date') };
      label = 'Date';
      break;
    case 'number':
      element = {
        type: 'number_input',
        action_id: slotActionId,
        is_decimal_allowed: input.decimal,
        // Whole numbers here are counts (at most 1,000) or days (at most 3,650), as the rule model allows.
        ...(input.decimal ? {} : { min_value: '1', max_value: input.slot === 'count' ? '1000' : '3650' }),
      };
      label = input.slot === 'count' ? 'At least how many times' : input.slot === 'days' || draft.editor.op?.includes('within') ? 'Days' : 'Number';
      if (input.slot === 'days') hint = 'Within the last … days. Leave empty for "ever".';
      break;
    case 'person':
      element = input.multi
        ? { type: 'multi_users_select', action_id: slotActionId, placeholder: plain('Choose reps') }
        : { type: 'users_select', action_id: slotActionId, placeholder: plain('Choose a rep') };
      label = input.multi ? 'Owners' : 'Owner';
      break;
  }
  return {
    type: 'input',
    block_id: SegmentBlockIds.value(input.slot, draft.generation),
    // Optional: saving the segment must not require a half-written extra condition.
    optional: true,
    label: plain(label),
    element,
    ...(hint ? { hint: plain(hint) } : {}),
  };
}

export function previewBlocks(preview: PreviewState): KnownBlock[] {
  if (preview.kind === 'kept') return preview.blocks;
  let text: string;
  if (preview.kind === 'counting') {
    text = '*Preview* — :hourglass_flowing_sand: counting…';
  } else if (preview.kind === 'too_slow') {
    text = `*Preview* — :warning: counting took longer than ${PREVIEW_TIMEOUT_MS / 1000} s, so there is no live preview for this rule. It still works once saved; \`/nurture segment show\` counts it without the time limit of a preview.`;
  } else {
    const lines = preview.sample.map(memberLine);
    text =
      `*Preview* — *${preview.count.toLocaleString('en-US')}* ${preview.count === 1 ? 'lead matches' : 'leads match'} right now ${purposeNote(preview.purpose)}` +
      (lines.length > 0 ? `\n${lines.join('\n')}` : '');
  }
  const blockId = preview.kind === 'counting' ? SegmentBlockIds.previewCounting : SegmentBlockIds.preview;
  return [{ type: 'section', block_id: blockId, text: { type: 'mrkdwn', text: clip(text, 3000) } }];
}

/** The counted preview a view shows now, to keep it when the rule did not change (undefined while counting). */
export function currentPreviewBlocks(blocks: readonly unknown[] | undefined): KnownBlock[] | undefined {
  const found = (blocks ?? []).filter((block) => (block as { block_id?: string }).block_id === SegmentBlockIds.preview) as KnownBlock[];
  return found.length > 0 ? found : undefined;
}
