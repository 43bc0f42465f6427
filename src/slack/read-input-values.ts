import { z } from 'zod';

/** A view's `state.values` as Slack sends it: block_id → action_id → the element's state. */
export type StateValues = Record<string, Record<string, unknown>>;

/** The one-value elements of our forms (text, number, select, radio, date, time), as Slack reports them. */
const ElementStateSchema = z.looseObject({
  value: z.string().nullish(),
  selected_date: z.string().nullish(),
  selected_time: z.string().nullish(),
  selected_option: z.looseObject({ value: z.string() }).nullish(),
});

/**
 * Each input block's value, by block_id: trimmed text, the chosen option's value, a date or a time;
 * undefined when empty. Form schemas validate this flat record, so their issue paths are block ids,
 * which is where Slack shows `response_action: 'errors'`.
 */
export function readInputValues(values: StateValues | undefined): Record<string, string | undefined> {
  const read: Record<string, string | undefined> = {};
  for (const [blockId, block] of Object.entries(values ?? {})) {
    const state = ElementStateSchema.safeParse(Object.values(block)[0]);
    if (!state.success) continue;
    const { value, selected_date, selected_time, selected_option } = state.data;
    const raw = selected_option?.value ?? selected_date ?? selected_time ?? value ?? undefined;
    read[blockId] = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  }
  return read;
}

/** Slack shows these under the input block named by the issue's path; one message per block. */
export function fieldErrors(error: z.ZodError, fallbackBlockId: string): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) errors[String(issue.path[0] ?? fallbackBlockId)] ??= issue.message;
  return errors;
}
