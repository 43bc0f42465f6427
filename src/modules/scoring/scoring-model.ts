import { z } from 'zod';

/** A page pattern: a path such as /pricing (also matching /pricing/…), `*` for any characters. */
export const PagePatternSchema = z
  .string()
  .trim()
  .regex(/^\/[A-Za-z0-9\-._~%!$&'()+,;=:@/*]*$/, 'A page pattern is a path starting with /, such as /pricing or /products/*.')
  .max(200, 'A page pattern is at most 200 characters.');

/** A whole (or, with `decimal`, any) number within bounds, with messages a person can act on (shown beside the form's fields). */
const bounded = (min: number, max: number, decimal = false) =>
  (decimal ? z.number({ error: 'Give a number.' }) : z.number({ error: 'Give a number.' }).int('A whole number.'))
    .min(min, `At least ${min}.`)
    .max(max, `At most ${max.toLocaleString('en-US')}.`);
const Points = bounded(0, 1000);
const EventNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'An event name is a short identifier such as demo_requested.');

/**
 * What behaviour is worth to a workspace (/nurture scoring). Every field has a default, so a stored
 * model written before a field existed reads as the defaults plus what the admin chose.
 */
export const ScoringModelSchema = z.object({
  /** Points halve every this many days without new activity. */
  halfLifeDays: bounded(0.5, 365, true).default(7),
  /** Hot-lead alerts fire when a score crosses this upward. */
  alertThreshold: bounded(1, 10_000).default(50),
  openPoints: Points.default(1),
  clickPoints: Points.default(5),
  pageViewPoints: Points.default(2),
  /** Pages worth more than an ordinary page view (instead of it): the highest matching pattern counts. */
  keyPages: z
    .array(z.object({ pattern: PagePatternSchema, points: Points }))
    .max(20, 'At most 20 key pages.')
    .default([
      { pattern: '/pricing', points: 10 },
      { pattern: '/demo', points: 15 },
      { pattern: '/case-studies', points: 5 },
    ]),
  /** A page_read of at least this many seconds on one page. */
  longReadSeconds: bounded(10, 3600).default(120),
  longReadPoints: Points.default(8),
  /** Browsing this many different product or pricing pages within the minutes below. */
  comparisonPages: bounded(2, 20).default(3),
  comparisonMinutes: bounded(5, 240).default(30),
  comparisonPatterns: z.array(PagePatternSchema).min(1, 'Give at least one page pattern.').max(20, 'At most 20 patterns.').default(['/pricing', '/product*', '/features*', '/compare*', '/vs*']),
  comparisonPoints: Points.default(15),
  /** Coming back to the site (a new visit) within this many days of clicking an email. */
  returnVisitDays: bounded(1, 90).default(7),
  returnVisitPoints: Points.default(10),
  /** Custom events (from the events API) by name. */
  customEvents: z
    .record(EventNameSchema, Points)
    .refine((events) => Object.keys(events).length <= 30, 'At most 30 custom events.')
    .default({ resource_download: 15, webinar_registered: 10, trial_started: 30, demo_requested: 40 }),
});

export type ScoringModel = z.infer<typeof ScoringModelSchema>;

export const DEFAULT_SCORING_MODEL: ScoringModel = ScoringModelSchema.parse({});

/**
 * Web activity this long after the previous one starts a new visit (the usual analytics session gap);
 * a visit is what "return visit" counts.
 */
export const VISIT_GAP_MINUTES = 30;

const patternRegexes = new Map<string, RegExp>();

/** Whether the page path matches the pattern: `/pricing` matches /pricing and /pricing/teams; `*` is a wildcard. */
export function matchesPagePattern(pattern: string, path: string): boolean {
  let regex = patternRegexes.get(pattern);
  if (!regex) {
    const body = pattern.replace(/\/+$/, '').split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    regex = new RegExp(`^${body}(?:/.*)?$`, 'i');
    if (patternRegexes.size > 1000) patternRegexes.clear();
    patternRegexes.set(pattern, regex);
  }
  return regex.test(path);
}
