import { z } from 'zod';
import { readInputValues, type StateValues } from '../../slack/read-input-values.ts';
import { eventPropertiesText, parseEventProperties } from './parse-sequence-text.ts';
import type { SequenceDefinition, StepDefinition } from './queries.ts';
import { SequenceDefinitionSchema, StepDefinitionSchema } from './sequence-definitions.ts';
import { DEFAULT_SEND_WINDOW, type Sequence, type SequenceStep } from './sequence.ts';

/**
 * The builder's two forms — the sequence's details, and one step — as what the person entered (text,
 * chosen options), read from a view's state, shown again as initial values, and turned into a
 * definition or the errors to show beside the fields (`response_action: 'errors'`, by block id).
 */

export const DetailsBlockIds = {
  name: 'sequence_name',
  goal: 'sequence_goal',
  goalEvent: 'sequence_goal_event',
  trigger: 'sequence_trigger',
  segment: 'sequence_segment',
  eventName: 'sequence_event_name',
  eventProperties: 'sequence_event_properties',
  days: 'sequence_days',
  start: 'sequence_start',
  end: 'sequence_end',
  holidays: 'sequence_holidays',
  senderName: 'sequence_sender_name',
  replyTo: 'sequence_reply_to',
  reenroll: 'sequence_reenroll',
  reenrollDays: 'sequence_reenroll_days',
} as const;

export const StepBlockIds = {
  template: 'step_template',
  delay: 'step_delay',
  unit: 'step_unit',
  from: 'step_from',
  condition: 'step_condition',
  stages: 'step_stages',
  page: 'step_page',
  pageDays: 'step_page_days',
} as const;

export type FieldErrors = Record<string, string>;
type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** Slack shows these in a small bubble under the field: one sentence, capitalised. */
export const sentence = (text: string) => {
  const trimmed = text.trim().replace(/\.$/, '');
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}.`;
};

/** The checked values of checkboxes or a multi-select (readInputValues reads one-value elements). */
function selectedValues(values: StateValues | undefined, blockId: string): string[] {
  const state = Object.values(values?.[blockId] ?? {})[0];
  const parsed = z.looseObject({ selected_options: z.array(z.looseObject({ value: z.string() })) }).safeParse(state);
  return parsed.success ? parsed.data.selected_options.map((option) => option.value) : [];
}

/** The first issue for each field, as a sentence. */
function errorsFrom(issues: readonly z.core.$ZodIssue[], blockOf: (path: readonly PropertyKey[]) => string): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) errors[blockOf(issue.path)] ??= sentence(issue.message);
  return errors;
}

// ---- the details form --------------------------------------------------------------------------------

export const TRIGGER_KINDS = ['segment', 'event', 'manual'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];
export const REENROLL_CHOICES = ['never', 'after'] as const;

export interface DetailsForm {
  name?: string;
  goal?: string;
  goalEvent?: string;
  trigger: TriggerKind;
  segmentId?: string;
  eventName?: string;
  eventProperties?: string;
  /** ISO weekdays as text, '1' (Monday) … '7'. */
  days: string[];
  start?: string;
  end?: string;
  holidays: 'none' | 'jp';
  senderName?: string;
  replyTo?: string;
  reenroll: (typeof REENROLL_CHOICES)[number];
  reenrollDays?: string;
}

/** What the form shows first: the sequence as it is, or a new one's defaults. */
export function detailsFormOf(sequence?: Sequence): DetailsForm {
  const window = sequence?.sendWindow ?? DEFAULT_SEND_WINDOW;
  const trigger = sequence?.trigger ?? { kind: 'manual' };
  return {
    name: sequence?.name,
    goal: sequence?.goal ?? undefined,
    goalEvent: sequence?.goalEvent ?? undefined,
    trigger: trigger.kind,
    segmentId: trigger.kind === 'segment' ? String(trigger.segmentId) : undefined,
    eventName: trigger.kind === 'event' ? trigger.name : undefined,
    eventProperties: trigger.kind === 'event' ? eventPropertiesText(trigger.properties) || undefined : undefined,
    days: window.days.map(String),
    start: window.start,
    end: window.end,
    holidays: window.holidays ?? 'none',
    senderName: sequence?.senderName ?? undefined,
    replyTo: sequence?.replyTo ?? undefined,
    reenroll: sequence?.reenrollAfterDays ? 'after' : 'never',
    reenrollDays: sequence?.reenrollAfterDays ? String(sequence.reenrollAfterDays) : undefined,
  };
}

const oneOf = <T extends string>(choices: readonly T[], value: string | undefined, fallback: T): T => (choices.includes(value as T) ? (value as T) : fallback);

/** What the open form holds now (a submission, or a choice that changes which inputs it shows). */
export function readDetailsForm(values: StateValues | undefined): DetailsForm {
  const read = readInputValues(values);
  const B = DetailsBlockIds;
  return {
    name: read[B.name],
    goal: read[B.goal],
    goalEvent: read[B.goalEvent],
    trigger: oneOf(TRIGGER_KINDS, read[B.trigger], 'manual'),
    segmentId: read[B.segment],
    eventName: read[B.eventName],
    eventProperties: read[B.eventProperties],
    days: selectedValues(values, B.days),
    start: read[B.start],
    end: read[B.end],
    holidays: read[B.holidays] === 'jp' ? 'jp' : 'none',
    senderName: read[B.senderName],
    replyTo: read[B.replyTo],
    reenroll: oneOf(REENROLL_CHOICES, read[B.reenroll], 'never'),
    reenrollDays: read[B.reenrollDays],
  };
}

/** Where a definition's issue is shown. */
function detailsBlockOf(path: readonly PropertyKey[]): string {
  const [first, second] = path.map(String);
  const B = DetailsBlockIds;
  switch (first) {
    case 'trigger':
      return second === 'segmentId' ? B.segment : second === 'properties' ? B.eventProperties : second === 'name' ? B.eventName : B.trigger;
    case 'sendWindow':
      return second === 'start' ? B.start : second === 'end' ? B.end : second === 'holidays' ? B.holidays : B.days;
    case 'reenrollAfterDays':
      return B.reenrollDays;
    default:
      return (B as Record<string, string>)[first ?? ''] ?? B.name;
  }
}

const wholeNumber = (text: string | undefined) => (text !== undefined && /^\s*\d{1,9}\s*$/.test(text) ? Number(text) : Number.NaN);

/** The form as a definition, or what to fix, field by field. */
export function definitionFromForm(form: DetailsForm): Checked<SequenceDefinition> {
  const B = DetailsBlockIds;
  const errors: FieldErrors = {};
  let trigger: unknown = { kind: 'manual' };
  if (form.trigger === 'segment') {
    if (!form.segmentId) errors[B.segment] = 'Choose the segment whose new members it enrolls.';
    trigger = { kind: 'segment', segmentId: Number(form.segmentId) };
  } else if (form.trigger === 'event') {
    if (!form.eventName) errors[B.eventName] = 'Name the event that enrolls a lead, e.g. resource_download.';
    const properties = parseEventProperties(form.eventProperties);
    if (!properties.ok) errors[B.eventProperties] = properties.message;
    trigger = { kind: 'event', name: form.eventName ?? '', properties: properties.ok ? properties.properties : {} };
  }
  let reenrollAfterDays: number | null = null;
  if (form.reenroll === 'after') {
    reenrollAfterDays = wholeNumber(form.reenrollDays);
    if (!form.reenrollDays) errors[B.reenrollDays] = 'Say after how many days a lead may go through it again.';
    else if (Number.isNaN(reenrollAfterDays)) errors[B.reenrollDays] = 'Write a whole number of days, e.g. 90.';
  }
  const parsed = SequenceDefinitionSchema.safeParse({
    name: form.name ?? '',
    goal: form.goal ?? null,
    goalEvent: form.goalEvent ?? null,
    trigger,
    sendWindow: { days: form.days.map(Number), start: form.start ?? '', end: form.end ?? '', holidays: form.holidays === 'jp' ? 'jp' : null },
    senderName: form.senderName ?? null,
    replyTo: form.replyTo ?? null,
    reenrollAfterDays,
  });
  const all = { ...(parsed.success ? {} : errorsFrom(parsed.error.issues, detailsBlockOf)), ...errors };
  if (Object.keys(all).length > 0 || !parsed.success) return { ok: false, errors: all };
  return { ok: true, value: parsed.data };
}

// ---- the step form ----------------------------------------------------------------------------------

export const DELAY_UNITS = { minutes: 1, hours: 60, days: 1440 } as const;
export type DelayUnit = keyof typeof DELAY_UNITS;
export const CONDITION_KINDS = ['none', 'previous_not_clicked', 'previous_not_opened', 'stage', 'not_visited'] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

export interface StepForm {
  templateId?: string;
  delay?: string;
  unit: DelayUnit;
  from: 'previous' | 'enrollment';
  condition: ConditionKind;
  stages: string[];
  page?: string;
  pageDays?: string;
}

/** What the form shows first: the step as it is, or a new step three days after the previous one. */
export function stepFormOf(step?: SequenceStep): StepForm {
  const minutes = step?.delayMinutes ?? 3 * DELAY_UNITS.days;
  const unit: DelayUnit = minutes % DELAY_UNITS.days === 0 ? 'days' : minutes % DELAY_UNITS.hours === 0 ? 'hours' : 'minutes';
  const condition = step?.condition ?? null;
  return {
    templateId: step ? String(step.templateId) : undefined,
    delay: String(minutes / DELAY_UNITS[unit]),
    unit,
    from: step?.delayFrom ?? 'previous',
    condition: condition?.kind ?? 'none',
    stages: condition?.kind === 'stage' ? [...condition.stages] : [],
    page: condition?.kind === 'not_visited' ? condition.url : undefined,
    pageDays: condition?.kind === 'not_visited' ? String(condition.days) : undefined,
  };
}

export function readStepForm(values: StateValues | undefined): StepForm {
  const read = readInputValues(values);
  const B = StepBlockIds;
  return {
    templateId: read[B.template],
    delay: read[B.delay],
    unit: oneOf(Object.keys(DELAY_UNITS) as DelayUnit[], read[B.unit], 'days'),
    from: read[B.from] === 'enrollment' ? 'enrollment' : 'previous',
    condition: oneOf(CONDITION_KINDS, read[B.condition], 'none'),
    stages: selectedValues(values, B.stages),
    page: read[B.page],
    pageDays: read[B.pageDays],
  };
}

function stepBlockOf(path: readonly PropertyKey[]): string {
  const [first, second] = path.map(String);
  const B = StepBlockIds;
  if (first === 'templateId') return B.template;
  if (first === 'condition') return second === 'stages' ? B.stages : second === 'url' ? B.page : second === 'days' ? B.pageDays : B.condition;
  return B.delay;
}

export function stepFromForm(form: StepForm): Checked<StepDefinition> {
  const B = StepBlockIds;
  const errors: FieldErrors = {};
  if (!form.templateId) errors[B.template] = 'Choose the email this step sends.';
  const amount = wholeNumber(form.delay);
  if (form.delay === undefined) errors[B.delay] = 'Say how long to wait (0 sends it right away).';
  else if (Number.isNaN(amount)) errors[B.delay] = 'Write a whole number, e.g. 3.';
  let condition: unknown = null;
  if (form.condition === 'stage') {
    if (form.stages.length === 0) errors[B.stages] = 'Choose the stages the lead must be in.';
    condition = { kind: 'stage', stages: form.stages };
  } else if (form.condition === 'not_visited') {
    if (!form.page) errors[B.page] = 'Say which page, e.g. /pricing.';
    const days = form.pageDays === undefined ? 30 : wholeNumber(form.pageDays);
    if (Number.isNaN(days)) errors[B.pageDays] = 'Write a whole number of days, e.g. 30.';
    condition = { kind: 'not_visited', url: form.page ?? '', days };
  } else if (form.condition !== 'none') {
    condition = { kind: form.condition };
  }
  const parsed = StepDefinitionSchema.safeParse({
    templateId: Number(form.templateId),
    delayMinutes: amount * DELAY_UNITS[form.unit],
    delayFrom: form.from,
    condition,
  });
  const all = { ...(parsed.success ? {} : errorsFrom(parsed.error.issues, stepBlockOf)), ...errors };
  if (Object.keys(all).length > 0 || !parsed.success) return { ok: false, errors: all };
  return { ok: true, value: parsed.data };
}
