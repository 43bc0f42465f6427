import { z } from 'zod';
import { SEND_TAG, TEAM_TAG } from '../delivery/email-tags.ts';

/** Resend describes tags as an object (name → value); the array form it takes on sending is accepted too. */
const TagsSchema = z.union([
  z.record(z.string(), z.string()),
  z.array(z.object({ name: z.string(), value: z.string() })).transform((tags) => Object.fromEntries(tags.map((tag) => [tag.name, tag.value]))),
]);

const TimestampSchema = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time' });

const EmailDataSchema = z.object({
  email_id: z.string().min(1),
  tags: TagsSchema.optional(),
});

const event = <Type extends string, Data extends z.ZodType>(type: Type, data: Data) =>
  z.object({ type: z.literal(type), created_at: TimestampSchema, data });

/**
 * The email events Nurture acts on, as Resend posts them (resend.com/docs/webhooks): only the fields read
 * here are checked, the rest of the payload is kept as it came. `created_at` at the top is when the event
 * happened; `data.created_at` is when the email was created.
 */
export const ResendEmailEventSchema = z.discriminatedUnion('type', [
  event('email.delivered', EmailDataSchema),
  event('email.delivery_delayed', EmailDataSchema),
  // type: Permanent (the address will never work), Transient or Undetermined.
  event('email.bounced', EmailDataSchema.extend({ bounce: z.object({ type: z.string().min(1), subType: z.string().optional() }) })),
  event('email.complained', EmailDataSchema),
  event('email.opened', EmailDataSchema),
  event('email.clicked', EmailDataSchema.extend({ click: z.object({ link: z.string().min(1) }) })),
  event('email.failed', EmailDataSchema.extend({ failed: z.object({ reason: z.string() }).partial().optional() })),
  event('email.suppressed', EmailDataSchema.extend({ suppressed: z.object({ type: z.string() }).partial().optional() })),
]);
export type ResendEmailEvent = z.infer<typeof ResendEmailEventSchema>;
export type ResendEmailEventType = ResendEmailEvent['type'];

const HANDLED_TYPES: ReadonlySet<string> = new Set(ResendEmailEventSchema.options.map((option) => option.shape.type.value));

/** What every Resend webhook has, whatever its type (contacts, domains, email.sent… are stored, not acted on). */
const EnvelopeSchema = z.object({
  type: z.string().min(1).max(100),
  created_at: TimestampSchema.optional(),
  data: z.record(z.string(), z.unknown()),
});

export type ParsedWebhook =
  | { ok: true; type: string; event: ResendEmailEvent | undefined; teamTag: string | undefined }
  | { ok: false; problems: string[] };

/** Checks a verified body: a well-formed envelope, and every field Nurture reads when it acts on the type. */
export function parseResendWebhook(body: unknown): ParsedWebhook {
  const envelope = EnvelopeSchema.safeParse(body);
  if (!envelope.success) return { ok: false, problems: describe(envelope.error) };
  if (!HANDLED_TYPES.has(envelope.data.type)) return { ok: true, type: envelope.data.type, event: undefined, teamTag: undefined };
  const parsed = ResendEmailEventSchema.safeParse(body);
  if (!parsed.success) return { ok: false, problems: describe(parsed.error) };
  return { ok: true, type: parsed.data.type, event: parsed.data, teamTag: parsed.data.data.tags?.[TEAM_TAG] };
}

/** A hard bounce ends the address; Transient and Undetermined ones are counted and the address kept. */
export function isHardBounce(event: Extract<ResendEmailEvent, { type: 'email.bounced' }>): boolean {
  return event.data.bounce.type.toLowerCase() === 'permanent';
}

function describe(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
}

/** Re-exported for this module's readers: the tags belong to the delivery pipeline that sets them. */
export { SEND_TAG, TEAM_TAG };
