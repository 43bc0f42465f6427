import { z } from 'zod';
import type { EditorReadings, ValueSlot } from './builder-draft.ts';
import { INCLUDE_SUPPRESSED, SegmentBlockIds, type SegmentDetails } from './build-segment-modal.ts';

/** A view's `state.values` as Slack sends it: block_id → action_id → the element's state. */
export type StateValues = Record<string, Record<string, unknown>>;

/** Any stateful element Slack reports, reduced to what the builder needs. */
const ElementStateSchema = z.looseObject({
  value: z.string().nullish(),
  selected_date: z.string().nullish(),
  selected_user: z.string().nullish(),
  selected_users: z.array(z.string()).nullish(),
  selected_option: z.looseObject({ value: z.string() }).nullish(),
  selected_options: z.array(z.looseObject({ value: z.string() })).nullish(),
});

/** The single element of an input block, read as one value or a list; undefined when empty. */
function readBlock(values: StateValues, blockId: string): string | string[] | undefined {
  const block = values[blockId];
  const state = block ? ElementStateSchema.safeParse(Object.values(block)[0]) : undefined;
  if (!state?.success) return undefined;
  const element = state.data;
  if (element.selected_options) return element.selected_options.map((option) => option.value);
  if (element.selected_users) return element.selected_users;
  return element.selected_option?.value ?? element.selected_user ?? element.selected_date ?? element.value ?? undefined;
}

export function readDetails(values: StateValues | undefined): SegmentDetails {
  const state = values ?? {};
  const text = (blockId: string) => {
    const value = readBlock(state, blockId);
    return typeof value === 'string' ? value : undefined;
  };
  const suppressed = readBlock(state, SegmentBlockIds.suppressed);
  return {
    name: text(SegmentBlockIds.name),
    description: text(SegmentBlockIds.description),
    includeSuppressed: Array.isArray(suppressed) && suppressed.includes(INCLUDE_SUPPRESSED),
  };
}

/** What the editor's value inputs hold, for the draft's generation (older inputs are gone from the view). */
export function readEditor(values: StateValues | undefined, generation: number): EditorReadings {
  const readings: EditorReadings = {};
  for (const slot of ['value', 'count', 'days'] as const satisfies readonly ValueSlot[]) {
    const value = readBlock(values ?? {}, SegmentBlockIds.value(slot, generation));
    if (value !== undefined && (Array.isArray(value) ? value.length > 0 : value.trim() !== '')) readings[slot] = value;
  }
  return readings;
}
