import { z } from 'zod';
import { LEAD_STAGES, LEAD_STATUSES } from '../leads/lead-input.ts';
import { BEHAVIOURS, ConditionSchema, DATE_FIELDS, MAX_CONDITIONS, TEXT_FIELDS, type Condition, type Rule } from './rule.ts';

/**
 * The segment builder's state between interactions. Slack keeps it for us in the modal's
 * `private_metadata` (at most 3,000 characters), so it is stored compactly and validated again on
 * every interaction: the conditions added so far, and what the "add a condition" editor has chosen.
 */

export type TextField = (typeof TEXT_FIELDS)[number];
export type DateField = (typeof DATE_FIELDS)[number];
export type Behaviour = (typeof BEHAVIOURS)[number];
export type FieldKey = TextField | 'stage' | 'status' | DateField | 'attribute' | Behaviour;
export type FieldKind = 'text' | 'enum' | 'date' | 'attribute' | 'behaviour';

/** What the builder offers to filter on, in the order of its menu. */
export const BUILDER_FIELDS: ReadonlyArray<{ key: FieldKey; label: string; kind: FieldKind; group: string }> = [
  { key: 'industry', label: 'Industry', kind: 'text', group: 'Lead' },
  { key: 'title', label: 'Job title', kind: 'text', group: 'Lead' },
  { key: 'company', label: 'Company', kind: 'text', group: 'Lead' },
  { key: 'stage', label: 'Buying stage', kind: 'enum', group: 'Lead' },
  { key: 'status', label: 'Email status', kind: 'enum', group: 'Lead' },
  { key: 'source', label: 'Source', kind: 'text', group: 'Lead' },
  { key: 'owner', label: 'Owner (rep)', kind: 'text', group: 'Lead' },
  { key: 'email', label: 'Email address', kind: 'text', group: 'Lead' },
  { key: 'first_name', label: 'First name', kind: 'text', group: 'Lead' },
  { key: 'last_name', label: 'Last name', kind: 'text', group: 'Lead' },
  { key: 'time_zone', label: 'Time zone', kind: 'text', group: 'Lead' },
  { key: 'locale', label: 'Locale', kind: 'text', group: 'Lead' },
  { key: 'created_at', label: 'Became a lead', kind: 'date', group: 'Dates' },
  { key: 'updated_at', label: 'Last changed', kind: 'date', group: 'Dates' },
  { key: 'consent_at', label: 'Consented', kind: 'date', group: 'Dates' },
  { key: 'attribute', label: 'Custom attribute…', kind: 'attribute', group: 'Custom attribute' },
  { key: 'page_visited', label: 'Visited a page', kind: 'behaviour', group: 'Behaviour' },
  { key: 'email_opened', label: 'Opened an email', kind: 'behaviour', group: 'Behaviour' },
  { key: 'email_clicked', label: 'Clicked an email', kind: 'behaviour', group: 'Behaviour' },
  { key: 'event', label: 'Did an event', kind: 'behaviour', group: 'Behaviour' },
];

const FIELD_BY_KEY = new Map(BUILDER_FIELDS.map((field) => [field.key, field]));
export const fieldOf = (key: string | undefined) => (key === undefined ? undefined : FIELD_BY_KEY.get(key as FieldKey));

/** Lead fields whose values are many and known from the data: offered as a type-ahead list. */
export const SUGGESTED_FIELDS = ['industry', 'title', 'company', 'source', 'time_zone', 'locale'] as const;
export type SuggestedField = (typeof SUGGESTED_FIELDS)[number];
export const isSuggestedField = (key: string | undefined): key is SuggestedField => (SUGGESTED_FIELDS as readonly string[]).includes(key ?? '');

/** Behaviour "operators": did it (optionally within a window), did it at least N times, never did it. */
export const BEHAVIOUR_OPS = ['did', 'at_least', 'never'] as const;

export const OP_LABELS: Record<string, string> = {
  equals: 'is',
  not_equals: 'is not',
  one_of: 'is one of',
  contains: 'contains',
  starts_with: 'starts with',
  is_set: 'is set',
  not_set: 'is not set',
  gt: 'is more than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  before: 'is before',
  after: 'is after',
  within_days: 'is in the last … days',
  not_within_days: 'is not in the last … days',
  did: 'did it',
  at_least: 'did it at least … times',
  never: 'never did it',
};

const OPS_BY_KIND: Record<FieldKind, readonly string[]> = {
  text: ['equals', 'not_equals', 'one_of', 'contains', 'starts_with', 'is_set', 'not_set'],
  enum: ['equals', 'not_equals', 'one_of'],
  date: ['within_days', 'not_within_days', 'before', 'after', 'is_set', 'not_set'],
  attribute: ['equals', 'not_equals', 'one_of', 'contains', 'starts_with', 'is_set', 'not_set', 'gt', 'gte', 'lt', 'lte', 'before', 'after', 'within_days', 'not_within_days'],
  behaviour: BEHAVIOUR_OPS,
};

export function operatorsOf(key: FieldKey): readonly string[] {
  return OPS_BY_KIND[fieldOf(key)!.kind];
}

export interface Editor {
  field?: FieldKey;
  op?: string;
  /** The custom attribute's name (field `attribute`). */
  attribute?: string;
}

export interface BuilderDraft {
  /** Set when editing a stored segment. */
  segmentId?: number;
  conditions: Condition[];
  editor: Editor;
  /**
   * Bumped whenever the editor changes: its inputs get new block_ids, so Slack shows them empty instead
   * of keeping what was typed for a different field (Slack preserves input state by block_id).
   */
  generation: number;
}

export const emptyDraft = (segmentId?: number, conditions: Condition[] = []): BuilderDraft => ({ segmentId, conditions, editor: {}, generation: 0 });

/** The editor is ready for a value once field, operator (and for attributes the name) are chosen. */
export const editorReady = (editor: Editor): editor is Required<Pick<Editor, 'field' | 'op'>> & Editor =>
  editor.field !== undefined && editor.op !== undefined && (editor.field !== 'attribute' || editor.attribute !== undefined);

export function ruleOf(conditions: readonly Condition[]): Rule {
  return conditions.length === 1 ? conditions[0]! : { type: 'all', rules: [...conditions] };
}

// ---- the value inputs the editor shows ------------------------------------------------------------

export type ValueSlot = 'value' | 'count' | 'days';

export type ValueInput =
  | { slot: ValueSlot; element: 'text'; list: boolean; optional?: boolean }
  | { slot: 'value'; element: 'suggest'; source: 'field' | 'attribute' | 'event' | 'page'; multi: boolean }
  | { slot: 'value'; element: 'choice'; choices: readonly string[]; multi: boolean }
  | { slot: 'value'; element: 'date' }
  | { slot: ValueSlot; element: 'number'; decimal: boolean; optional?: boolean }
  | { slot: 'value'; element: 'person'; multi: boolean };

/** Which inputs a condition needs, from its field and operator. */
export function valueInputsOf(editor: Editor): ValueInput[] {
  if (!editorReady(editor)) return [];
  const { field, op } = editor;
  const kind = fieldOf(field)!.kind;
  if (op === 'is_set' || op === 'not_set') return [];
  if (kind === 'behaviour') {
    const inputs: ValueInput[] = [];
    if (field === 'page_visited') inputs.push({ slot: 'value', element: 'suggest', source: 'page', multi: false });
    if (field === 'event') inputs.push({ slot: 'value', element: 'suggest', source: 'event', multi: false });
    if (op === 'at_least') inputs.push({ slot: 'count', element: 'number', decimal: false });
    inputs.push({ slot: 'days', element: 'number', decimal: false, optional: true });
    return inputs;
  }
  if (kind === 'enum') return [{ slot: 'value', element: 'choice', choices: field === 'stage' ? LEAD_STAGES : LEAD_STATUSES, multi: op === 'one_of' }];
  if (op === 'within_days' || op === 'not_within_days') return [{ slot: 'value', element: 'number', decimal: false }];
  if (op === 'before' || op === 'after') return [{ slot: 'value', element: 'date' }];
  if (op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte') return [{ slot: 'value', element: 'number', decimal: true }];
  const pickable = op === 'equals' || op === 'not_equals' || op === 'one_of';
  if (field === 'owner' && pickable) return [{ slot: 'value', element: 'person', multi: op === 'one_of' }];
  if (pickable && (isSuggestedField(field) || kind === 'attribute')) {
    return [{ slot: 'value', element: 'suggest', source: kind === 'attribute' ? 'attribute' : 'field', multi: op === 'one_of' }];
  }
  return [{ slot: 'value', element: 'text', list: op === 'one_of' }];
}

/** What the person entered in the editor's inputs: one value, or several (multi selects, lists). */
export type EditorReadings = Partial<Record<ValueSlot, string | string[]>>;

export type BuiltCondition = { ok: true; condition: Condition } | { ok: false; slot: ValueSlot; message: string };

/** Turns the editor's choices and inputs into a condition, checked against the rule model. */
export function conditionFromEditor(editor: Editor, readings: EditorReadings): BuiltCondition {
  if (!editorReady(editor)) return { ok: false, slot: 'value', message: 'Choose what to filter on and how first.' };
  const { field, op } = editor;
  const kind = fieldOf(field)!.kind;
  const inputs = valueInputsOf(editor);
  for (const input of inputs) {
    const reading = readings[input.slot];
    const empty = reading === undefined || (Array.isArray(reading) ? reading.length === 0 : reading.trim() === '');
    if (empty && !('optional' in input && input.optional)) return { ok: false, slot: input.slot, message: missingText(input) };
  }
  const one = (slot: ValueSlot) => {
    const reading = readings[slot];
    return Array.isArray(reading) ? reading[0] : reading?.trim() || undefined;
  };
  const many = (slot: ValueSlot) => {
    const reading = readings[slot];
    const items = Array.isArray(reading) ? reading : (reading ?? '').split(/[,\n]/);
    return items.map((item) => item.trim()).filter(Boolean);
  };
  const number = (slot: ValueSlot) => (one(slot) === undefined ? undefined : Number(one(slot)));

  let candidate: Record<string, unknown>;
  if (kind === 'behaviour') {
    candidate = { type: 'behaviour', behaviour: field };
    if (field === 'page_visited') candidate.url = one('value');
    if (field === 'event') candidate.name = one('value');
    if (op === 'at_least') candidate.at_least = number('count');
    if (op === 'never') candidate.never = true;
    const days = number('days');
    if (days !== undefined) candidate.within_days = days;
  } else {
    candidate = kind === 'attribute' ? { type: 'attribute', name: editor.attribute, op } : { type: 'field', field, op };
    const input = inputs[0];
    if (input) {
      if (op === 'one_of') candidate.value = many('value');
      else if (input.element === 'number') candidate.value = number('value');
      else candidate.value = one('value');
    }
  }
  const parsed = ConditionSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const message = issue.code === 'invalid_union' ? deepestMessage(issue) : issue.message;
    const slot: ValueSlot = issue.path.includes('at_least') ? 'count' : issue.path.includes('within_days') ? 'days' : 'value';
    return { ok: false, slot, message: sentence(message) };
  }
  return { ok: true, condition: parsed.data };
}

function missingText(input: ValueInput): string {
  if (input.slot === 'count') return 'Say how many times.';
  if (input.element === 'suggest' && input.source === 'page') return 'Choose or type a page, e.g. /pricing or /products/*.';
  if (input.element === 'suggest' && input.source === 'event') return 'Choose the event.';
  if (input.element === 'number') return 'Enter a number.';
  if (input.element === 'date') return 'Pick a date.';
  return 'Enter a value.';
}

/** zod reports a failed union as "Invalid input"; the useful words are in the branch that got furthest. */
function deepestMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_union') return issue.message;
  const useful = issue.errors
    .map((branch) => branch.filter((inner) => !(inner.code === 'invalid_value' && ['type', 'field', 'op'].includes(String(inner.path[0])))))
    .filter((branch) => branch.length > 0)
    .sort((a, b) => a.length - b.length)[0];
  return useful ? deepestMessage(useful[0]!) : issue.message;
}

const sentence = (text: string) => {
  const trimmed = text.trim().replace(/\.$/, '');
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}.`;
};

// ---- editing a stored rule --------------------------------------------------------------------------

/**
 * The builder shows a flat list of conditions that must all hold. A stored rule fits when it is one
 * condition or an `all` of conditions; a negated condition fits when it has a direct opposite
 * (`not equals` → `is not`, `not is set` → `is not set`, a negated behaviour → "never"). Groups with
 * `any`, or other negations, don't: those are changed with the text form.
 */
export function flattenRule(rule: Rule): Condition[] | undefined {
  const parts = rule.type === 'all' ? rule.rules : [rule];
  const conditions: Condition[] = [];
  for (const part of parts) {
    const condition = part.type === 'not' ? opposite(part.rule) : part.type === 'all' || part.type === 'any' ? undefined : part;
    if (!condition) return undefined;
    conditions.push(condition);
  }
  return conditions;
}

function opposite(rule: Rule): Condition | undefined {
  if (rule.type === 'all' || rule.type === 'any' || rule.type === 'not') return undefined;
  if (rule.type === 'behaviour') {
    // NOT EXISTS reads the same as `never`; a counted behaviour has no such opposite.
    if (rule.never || rule.at_least !== undefined || rule.at_most !== undefined) return undefined;
    return { ...rule, never: true };
  }
  const flipped: Record<string, string> = { equals: 'not_equals', not_equals: 'equals', is_set: 'not_set', not_set: 'is_set' };
  const op = flipped[rule.op];
  if (!op) return undefined;
  const parsed = ConditionSchema.safeParse({ ...rule, op });
  return parsed.success ? parsed.data : undefined;
}

// ---- private_metadata -------------------------------------------------------------------------------

/** Slack's limit for a view's private_metadata. */
export const METADATA_LIMIT = 3000;

/** Short keys for the condition fields, so ~30–50 conditions fit in Slack's 3,000 characters. */
const SHORT_KEYS: Record<string, string> = {
  type: 't',
  field: 'f',
  name: 'n',
  op: 'o',
  value: 'v',
  behaviour: 'b',
  url: 'u',
  message: 'm',
  sequence: 's',
  link: 'k',
  where: 'w',
  within_days: 'd',
  at_least: 'a',
  at_most: 'x',
  never: 'z',
  include_machine: 'h',
};
const LONG_KEYS = Object.fromEntries(Object.entries(SHORT_KEYS).map(([long, short]) => [short, long]));
const SHORT_TYPES: Record<string, string> = { field: 'f', attribute: 'a', behaviour: 'b' };
const LONG_TYPES = Object.fromEntries(Object.entries(SHORT_TYPES).map(([long, short]) => [short, long]));

function compact(condition: Condition): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(condition)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [SHORT_KEYS[key] ?? key, key === 'type' ? SHORT_TYPES[String(value)] : value]),
  );
}

function expand(stored: Record<string, unknown>): unknown {
  return Object.fromEntries(Object.entries(stored).map(([key, value]) => [LONG_KEYS[key] ?? key, key === 't' ? LONG_TYPES[String(value)] : value]));
}

const StoredDraftSchema = z.object({
  s: z.number().int().positive().optional(),
  g: z.number().int().min(0),
  e: z.object({ k: z.string().optional(), o: z.string().optional(), n: z.string().max(64).optional() }),
  c: z.array(z.record(z.string(), z.unknown())).max(MAX_CONDITIONS),
});

export function encodeDraft(draft: BuilderDraft): string {
  const stored: z.infer<typeof StoredDraftSchema> = {
    s: draft.segmentId,
    g: draft.generation,
    e: { k: draft.editor.field, o: draft.editor.op, n: draft.editor.attribute },
    c: draft.conditions.map(compact),
  };
  return JSON.stringify(stored);
}

/** Reads the draft back; anything unexpected (a view from an older version) throws. */
export function decodeDraft(metadata: string): BuilderDraft {
  const stored = StoredDraftSchema.parse(JSON.parse(metadata));
  const field = fieldOf(stored.e.k)?.key;
  const op = field && stored.e.o && operatorsOf(field).includes(stored.e.o) ? stored.e.o : undefined;
  return {
    segmentId: stored.s,
    generation: stored.g,
    editor: { field, op, attribute: field === 'attribute' ? stored.e.n : undefined },
    conditions: stored.c.map((condition) => ConditionSchema.parse(expand(condition))),
  };
}

export const fitsInMetadata = (draft: BuilderDraft) => encodeDraft(draft).length <= METADATA_LIMIT;
