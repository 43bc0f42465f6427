import type { z } from 'zod';

/**
 * JSON that came back from Slack (a button's value, a modal's private_metadata), checked against its
 * schema. Text that is not JSON fails the same way as JSON of the wrong shape.
 */
export function parseJsonText<Schema extends z.ZodType>(schema: Schema, text: string | undefined): ReturnType<Schema['safeParse']> {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    value = undefined;
  }
  return schema.safeParse(value) as ReturnType<Schema['safeParse']>;
}
