import { z } from 'zod';
import { EmailSchema, LeadInputSchema } from '../leads/lead-input.ts';

/** Events whose name makes them website visits (kind `web`); the site snippet will report the same. */
export const WEB_EVENT_NAMES = new Set(['page_view', 'page_read']);
/** Names Nurture records itself from email delivery; the API may not forge them. */
export const RESERVED_EVENT_PREFIX = 'email_';
export const MAX_EVENT_PROPERTIES_BYTES = 8 * 1024;
/** A sender's clock may run a little fast; events further in the future are refused. */
export const MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000;

const JsonValueSchema: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValueSchema), z.record(z.string(), JsonValueSchema)]),
);

/**
 * One behaviour event from the API: `{ email, name, properties?, occurred_at?, id?, lead? }`.
 * `id` makes retries safe (the same id and time is stored once); `lead` optionally creates or enriches
 * the lead in the same call (a form that downloads a whitepaper knows the person's name and company).
 */
export const EventInputSchema = z
  .object({
    email: EmailSchema,
    name: z
      .string({ message: 'name is required, e.g. "resource_download"' })
      .trim()
      .regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'name must be a short identifier such as resource_download or page_view')
      .refine((name) => !name.toLowerCase().startsWith(RESERVED_EVENT_PREFIX), `names starting with "${RESERVED_EVENT_PREFIX}" are recorded by Nurture itself`),
    properties: z
      .record(z.string(), JsonValueSchema, { message: 'properties must be an object' })
      .refine((properties) => JSON.stringify(properties).length <= MAX_EVENT_PROPERTIES_BYTES, `properties are at most ${MAX_EVENT_PROPERTIES_BYTES / 1024} KB`)
      .default({}),
    occurred_at: z.iso
      .datetime({ offset: true, message: 'occurred_at must be an ISO 8601 time such as 2026-11-27T09:00:00Z' })
      .optional()
      .refine((value) => value === undefined || Date.parse(value) <= Date.now() + MAX_FUTURE_SKEW_MS, 'occurred_at is more than a day in the future'),
    id: z.string().trim().min(1).max(200, 'id is at most 200 characters').optional(),
    lead: LeadInputSchema.omit({ email: true }).optional(),
  })
  .strict()
  .superRefine((event, ctx) => {
    if (!WEB_EVENT_NAMES.has(event.name)) return;
    const url = event.properties.url;
    if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      ctx.addIssue({ code: 'custom', path: ['properties', 'url'], message: `${event.name} needs properties.url, the http(s) address of the page` });
    }
    // Time on a page, sent when it is hidden: scoring counts long reads.
    const seconds = event.properties.seconds;
    if (event.name === 'page_read' && (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 86_400)) {
      ctx.addIssue({ code: 'custom', path: ['properties', 'seconds'], message: 'page_read needs properties.seconds, the seconds spent on the page (0 to 86400)' });
    }
  });

export type EventInput = z.output<typeof EventInputSchema>;

export function eventKind(name: string): 'web' | 'custom' {
  return WEB_EVENT_NAMES.has(name) ? 'web' : 'custom';
}

/** The page for a web event: its path without trailing slash ("/pricing"), for "visited /pricing" conditions. */
export function urlPath(url: string): string {
  const path = new URL(url).pathname.replace(/\/+$/, '');
  return path === '' ? '/' : path;
}
