import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { z } from 'zod';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { TEMPLATE_LIMITS, type DraftField } from './templates.ts';
import { TEMPLATE_STAGES, type TemplateContent, type TemplateStage } from './template.ts';

/** block_ids of the editor, one per field: errors at save time are shown under these. */
export const TemplateBlockIds = {
  name: 'template_name',
  stage: 'template_stage',
  subject: 'template_subject',
  preheader: 'template_preheader',
  body: 'template_body',
} as const satisfies Record<DraftField, string>;

/** Slack's plain_text_input holds at most 3,000 characters, so bodies written in Slack are at most that long. */
export const MODAL_BODY_LIMIT = 3_000;

/** What the modal remembers between opening and saving: which template it edits (none: a new one). */
export const EditorMetadataSchema = z.object({ templateId: z.number().int().positive().optional() });
export type EditorMetadata = z.infer<typeof EditorMetadataSchema>;

const STAGE_LABELS: Record<TemplateStage, string> = {
  awareness: 'Awareness: getting to know the problem',
  consideration: 'Consideration: comparing solutions',
  decision: 'Decision: ready to choose',
};

const BODY_HINT =
  'Markdown: # heading, **bold**, *italic*, - lists, [link text](https://…). Merge fields: {{ first_name | default: "there" }}, {{ company }}, ' +
  '{{ full_name }}, {{ title }}, {{ industry }}, {{ attributes.plan }}. Put {% if company %} … {% endif %} on lines of their own to show or hide whole paragraphs.';

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const stageOption = (stage: TemplateStage): PlainTextOption => ({ text: plain(STAGE_LABELS[stage]), value: stage });

/** The editor for a new template (name filled in when given) or an existing one (every field filled in). */
export function buildTemplateModal(options: { templateId?: number; initial?: Partial<TemplateContent> }): ModalView {
  const initial = options.initial ?? {};
  const text = (value: string | undefined, max: number) => (value ? { initial_value: value.slice(0, max) } : {});
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: TemplateBlockIds.name,
      label: plain('Name'),
      element: { type: 'plain_text_input', action_id: ActionIds.templateNameInput, max_length: TEMPLATE_LIMITS.name, placeholder: plain('e.g. Pricing follow-up'), ...text(initial.name, TEMPLATE_LIMITS.name) },
    },
    {
      type: 'input',
      block_id: TemplateBlockIds.stage,
      label: plain('Buying stage it is written for'),
      element: {
        type: 'static_select',
        action_id: ActionIds.templateStageInput,
        placeholder: plain('Choose a stage'),
        options: TEMPLATE_STAGES.map(stageOption),
        ...(initial.stage ? { initial_option: stageOption(initial.stage) } : {}),
      },
    },
    {
      type: 'input',
      block_id: TemplateBlockIds.subject,
      label: plain('Subject'),
      element: {
        type: 'plain_text_input',
        action_id: ActionIds.templateSubjectInput,
        max_length: TEMPLATE_LIMITS.subject,
        placeholder: plain('e.g. {{ first_name | default: "Hi" }}, a faster way to plan production'),
        ...text(initial.subject, TEMPLATE_LIMITS.subject),
      },
    },
    {
      type: 'input',
      block_id: TemplateBlockIds.preheader,
      optional: true,
      label: plain('Preheader'),
      hint: plain('The line inboxes show after the subject.'),
      element: { type: 'plain_text_input', action_id: ActionIds.templatePreheaderInput, max_length: TEMPLATE_LIMITS.preheader, ...text(initial.preheader, TEMPLATE_LIMITS.preheader) },
    },
    {
      type: 'input',
      block_id: TemplateBlockIds.body,
      label: plain('Body'),
      hint: plain(BODY_HINT),
      element: { type: 'plain_text_input', action_id: ActionIds.templateBodyInput, multiline: true, max_length: MODAL_BODY_LIMIT, ...text(initial.body, MODAL_BODY_LIMIT) },
    },
  ];
  const metadata: EditorMetadata = options.templateId === undefined ? {} : { templateId: options.templateId };
  return {
    type: 'modal',
    callback_id: CallbackIds.templateEditor,
    title: plain(options.templateId === undefined ? 'New template' : 'Edit template'),
    submit: plain('Save'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(metadata),
    blocks,
  };
}

/** The submitted values as the modal's state holds them (Slack leaves empty inputs out or null). */
export interface EditorValues {
  name?: string;
  stage?: string;
  subject?: string;
  preheader?: string;
  body?: string;
}

type StateValues = Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null }>>;

export function readEditorValues(values: StateValues): EditorValues {
  const textOf = (blockId: string, actionId: string) => values[blockId]?.[actionId]?.value ?? undefined;
  return {
    name: textOf(TemplateBlockIds.name, ActionIds.templateNameInput),
    stage: values[TemplateBlockIds.stage]?.[ActionIds.templateStageInput]?.selected_option?.value,
    subject: textOf(TemplateBlockIds.subject, ActionIds.templateSubjectInput),
    preheader: textOf(TemplateBlockIds.preheader, ActionIds.templatePreheaderInput),
    body: textOf(TemplateBlockIds.body, ActionIds.templateBodyInput),
  };
}
