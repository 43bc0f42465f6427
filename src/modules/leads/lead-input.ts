import { z } from 'zod';

export const LEAD_STAGES = ['awareness', 'consideration', 'decision', 'customer'] as const;
export const LEAD_STATUSES = ['subscribed', 'unsubscribed', 'bounced', 'complained'] as const;
export type LeadStage = (typeof LEAD_STAGES)[number];
export type LeadStatus = (typeof LEAD_STATUSES)[number];

export const MAX_CUSTOM_ATTRIBUTES = 50;

/** Trimmed text; blank counts as "not given" (an empty CSV cell never wipes what we know). */
const text = (max: number, label: string) =>
  z
    .string({ message: `${label} must be text` })
    .transform((value) => value.trim())
    .pipe(z.string().max(max, `${label} is longer than ${max} characters`))
    .transform((value) => (value === '' ? undefined : value))
    .nullish()
    .transform((value) => value ?? undefined);

export const EmailSchema = z
  .string({ message: 'email is required' })
  .trim()
  .toLowerCase()
  .pipe(z.email({ message: 'email is not a valid address' }).max(254, 'email is longer than 254 characters'));

const VALID_TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone'));

const TimeZoneSchema = text(64, 'time_zone').refine(
  (zone) => zone === undefined || VALID_TIME_ZONES.has(zone) || zone === 'UTC',
  'time_zone must be an IANA time zone such as Asia/Tokyo or Europe/Berlin',
);

const LocaleSchema = text(35, 'locale').transform((locale, ctx) => {
  if (locale === undefined) return undefined;
  try {
    return Intl.getCanonicalLocales(locale)[0];
  } catch {
    ctx.addIssue({ code: 'custom', message: 'locale must be a language tag such as ja-JP or en-US' });
    return z.NEVER;
  }
});

const AttributeValueSchema = z.union([z.string().max(1000, 'attribute values are at most 1,000 characters'), z.number(), z.boolean(), z.null()], {
  message: 'attribute values must be text, numbers, true/false or null',
});

const AttributesSchema = z
  .record(z.string().trim().min(1, 'attribute names cannot be blank').max(64, 'attribute names are at most 64 characters'), AttributeValueSchema, {
    message: 'attributes must be an object of name → value',
  })
  .refine((attributes) => Object.keys(attributes).length <= MAX_CUSTOM_ATTRIBUTES, `at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes per lead`)
  .optional();

/**
 * One lead as the API and CSV import accept it. Fields left out (or null, or blank) keep what we
 * already know; `attributes` merge into the stored ones (a null value removes that attribute).
 * Status can be set to `unsubscribed` but never back: re-subscribing needs the person's own consent.
 */
export const LeadInputSchema = z
  .object({
    email: EmailSchema,
    first_name: text(100, 'first_name'),
    last_name: text(100, 'last_name'),
    company: text(200, 'company'),
    title: text(200, 'title'),
    industry: text(100, 'industry'),
    stage: z
      .enum(LEAD_STAGES, { message: `stage must be one of ${LEAD_STAGES.join(', ')}` })
      .nullish()
      .transform((value) => value ?? undefined),
    source: text(100, 'source'),
    time_zone: TimeZoneSchema,
    locale: LocaleSchema,
    owner: text(20, 'owner').refine((owner) => owner === undefined || /^[UW][A-Z0-9]{2,}$/.test(owner), 'owner must be a Slack user id such as U024BE7LH'),
    attributes: AttributesSchema,
    status: z
      .enum(['subscribed', 'unsubscribed'], { message: 'status may only be set to subscribed or unsubscribed' })
      .nullish()
      .transform((value) => value ?? undefined),
    consent_at: z
      .iso.datetime({ offset: true, message: 'consent_at must be an ISO 8601 time such as 2026-11-27T09:00:00Z' })
      .nullish()
      .transform((value) => value ?? undefined),
    consent_source: text(200, 'consent_source'),
  })
  .strict();

export type LeadInput = z.output<typeof LeadInputSchema>;

/** Problems with one item, worded for the person who sent it: "stage must be one of …", "unknown field foo …". */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (custom data goes in "attributes")`;
    }
    const field = issue.path.join('.');
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) return `${field || 'value'} is required`;
    return issue.message.startsWith(String(issue.path[0] ?? '')) || !field ? issue.message : `${field}: ${issue.message}`;
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}
