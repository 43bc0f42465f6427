import { z } from 'zod';
import { LEAD_STAGES, LEAD_STATUSES } from '../leads/lead-input.ts';

/**
 * A segment's audience rule: a tree of `all` / `any` / `not` groups over conditions on lead fields,
 * custom attributes and behaviour (events). Stored as JSON on the segment; compiled to one
 * parameterized SQL query per use (compile-rule.ts). Nothing here ever becomes SQL text.
 */

/** Text fields of a lead that conditions may name. */
export const TEXT_FIELDS = ['email', 'first_name', 'last_name', 'company', 'title', 'industry', 'source', 'time_zone', 'locale', 'owner'] as const;
/** Fields with a fixed set of values. */
export const ENUM_FIELDS = { stage: LEAD_STAGES, status: LEAD_STATUSES } as const;
export const DATE_FIELDS = ['created_at', 'updated_at', 'consent_at'] as const;

export const TEXT_OPS = ['equals', 'not_equals', 'one_of', 'contains', 'starts_with', 'is_set', 'not_set'] as const;
export const NUMBER_OPS = ['gt', 'gte', 'lt', 'lte'] as const;
export const DATE_OPS = ['before', 'after', 'within_days', 'not_within_days'] as const;

const MAX_TEXT = 200;
const MAX_DAYS = 3650;
const Text = z.string().trim().min(1, 'a value is required').max(MAX_TEXT, `values are at most ${MAX_TEXT} characters`);
const TextList = z.array(Text).min(1, 'give at least one value').max(100, 'at most 100 values');
const Days = z.number().int('days must be a whole number').min(1, 'at least 1 day').max(MAX_DAYS, `at most ${MAX_DAYS} days`);
const IsoDate = z.iso.date({ message: 'dates are written YYYY-MM-DD' });

const TextCondition = z.discriminatedUnion('op', [
  z.object({ op: z.enum(['equals', 'not_equals', 'contains', 'starts_with']), value: Text }),
  z.object({ op: z.literal('one_of'), value: TextList }),
  z.object({ op: z.enum(['is_set', 'not_set']) }),
]);


export const TextFieldConditionSchema = z
  .object({ type: z.literal('field'), field: z.enum(TEXT_FIELDS) })
  .and(TextCondition);

export const EnumFieldConditionSchema = z.union([
  z.object({ type: z.literal('field'), field: z.literal('stage'), op: z.enum(['equals', 'not_equals']), value: z.enum(LEAD_STAGES, { message: `stage is one of ${LEAD_STAGES.join(', ')}` }) }),
  z.object({ type: z.literal('field'), field: z.literal('stage'), op: z.literal('one_of'), value: z.array(z.enum(LEAD_STAGES, { message: `stage is one of ${LEAD_STAGES.join(', ')}` })).min(1) }),
  z.object({ type: z.literal('field'), field: z.literal('status'), op: z.enum(['equals', 'not_equals']), value: z.enum(LEAD_STATUSES, { message: `status is one of ${LEAD_STATUSES.join(', ')}` }) }),
  z.object({ type: z.literal('field'), field: z.literal('status'), op: z.literal('one_of'), value: z.array(z.enum(LEAD_STATUSES, { message: `status is one of ${LEAD_STATUSES.join(', ')}` })).min(1) }),
]);

export const DateFieldConditionSchema = z.union([
  z.object({ type: z.literal('field'), field: z.enum(DATE_FIELDS), op: z.enum(['before', 'after']), value: IsoDate }),
  z.object({ type: z.literal('field'), field: z.enum(DATE_FIELDS), op: z.enum(['within_days', 'not_within_days']), value: Days }),
  z.object({ type: z.literal('field'), field: z.enum(DATE_FIELDS), op: z.enum(['is_set', 'not_set']) }),
]);

/** Custom attribute names are data (a bind parameter), never identifiers: any text is safe. */
const AttributeName = z.string().trim().min(1, 'name the attribute').max(64, 'attribute names are at most 64 characters');

export const AttributeConditionSchema = z.union([
  z.object({ type: z.literal('attribute'), name: AttributeName }).and(TextCondition),
  z.object({ type: z.literal('attribute'), name: AttributeName, op: z.enum(NUMBER_OPS), value: z.number({ message: 'compare with a number' }).finite() }),
  z.object({ type: z.literal('attribute'), name: AttributeName, op: z.enum(['before', 'after']), value: IsoDate }),
  z.object({ type: z.literal('attribute'), name: AttributeName, op: z.enum(['within_days', 'not_within_days']), value: Days }),
]);

export const BEHAVIOURS = ['email_opened', 'email_clicked', 'page_visited', 'event'] as const;

/**
 * Something the lead did (or never did): an email opened or clicked (optionally a given message,
 * sequence or link), a page visited (URL path pattern, `*` matches anything), or a custom event by
 * name with property filters. Counted within a window; machine activity (privacy proxies, scanners)
 * is left out unless `include_machine` is set.
 */
export const BehaviourConditionSchema = z
  .object({
    type: z.literal('behaviour'),
    behaviour: z.enum(BEHAVIOURS, { message: `behaviour is one of ${BEHAVIOURS.join(', ')}` }),
    /** Custom event name (behaviour `event`). */
    name: z.string().trim().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'event names look like resource_download').optional(),
    /** URL path pattern (behaviour `page_visited`), e.g. /pricing or /products/*. */
    url: z.string().trim().regex(/^\/[^\s]{0,300}$/, 'page patterns start with / , e.g. /pricing or /products/*').optional(),
    message: Text.optional(),
    sequence: Text.optional(),
    link: Text.optional(),
    /** Event property equals value, e.g. { asset: 'whitepaper-x' }. */
    where: z.record(z.string().trim().min(1).max(64), z.union([z.string().max(MAX_TEXT), z.number(), z.boolean()])).optional(),
    within_days: Days.optional(),
    at_least: z.number().int().min(1).max(1000).optional(),
    at_most: z.number().int().min(0).max(1000).optional(),
    /** True: the lead did NOT do this (in the window). */
    never: z.boolean().optional(),
    include_machine: z.boolean().optional(),
  })
  .strict()
  .superRefine((condition, ctx) => {
    if (condition.behaviour === 'event' && !condition.name) ctx.addIssue({ code: 'custom', path: ['name'], message: 'say which event, e.g. resource_download' });
    if (condition.behaviour !== 'event' && condition.name) ctx.addIssue({ code: 'custom', path: ['name'], message: 'an event name only goes with behaviour "event"' });
    if (condition.behaviour === 'page_visited' && !condition.url) ctx.addIssue({ code: 'custom', path: ['url'], message: 'say which page, e.g. /pricing' });
    if (condition.behaviour !== 'page_visited' && condition.url) ctx.addIssue({ code: 'custom', path: ['url'], message: 'a page pattern only goes with page_visited' });
    if (!condition.behaviour.startsWith('email_') && (condition.message || condition.sequence || condition.link)) {
      ctx.addIssue({ code: 'custom', path: ['message'], message: 'message, sequence and link only go with email_opened / email_clicked' });
    }
    if (condition.never && (condition.at_least !== undefined || condition.at_most !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['never'], message: '"never" cannot be combined with a count' });
    }
    if (condition.at_least !== undefined && condition.at_most !== undefined && condition.at_least > condition.at_most) {
      ctx.addIssue({ code: 'custom', path: ['at_most'], message: 'at_most is smaller than at_least' });
    }
  });

export type TextFieldCondition = z.infer<typeof TextFieldConditionSchema>;
export type EnumFieldCondition = z.infer<typeof EnumFieldConditionSchema>;
export type DateFieldCondition = z.infer<typeof DateFieldConditionSchema>;
export type AttributeCondition = z.infer<typeof AttributeConditionSchema>;
export type BehaviourCondition = z.infer<typeof BehaviourConditionSchema>;
export type Condition = TextFieldCondition | EnumFieldCondition | DateFieldCondition | AttributeCondition | BehaviourCondition;

export type Rule = Condition | { type: 'all'; rules: Rule[] } | { type: 'any'; rules: Rule[] } | { type: 'not'; rule: Rule };

export const MAX_CONDITIONS = 50;
export const MAX_DEPTH = 6;

export const ConditionSchema: z.ZodType<Condition> = z.union([
  BehaviourConditionSchema,
  EnumFieldConditionSchema,
  DateFieldConditionSchema,
  TextFieldConditionSchema,
  AttributeConditionSchema,
]) as z.ZodType<Condition>;

export const RuleSchema: z.ZodType<Rule> = z
  .lazy(() =>
    z.union([
      z.object({ type: z.literal('all'), rules: z.array(RuleSchema).max(MAX_CONDITIONS) }),
      z.object({ type: z.literal('any'), rules: z.array(RuleSchema).min(1, 'an "any" group needs at least one rule').max(MAX_CONDITIONS) }),
      z.object({ type: z.literal('not'), rule: RuleSchema }),
      ConditionSchema,
    ]),
  )
  .superRefine((rule, ctx) => {
    const { conditions, depth } = measure(rule);
    if (conditions > MAX_CONDITIONS) ctx.addIssue({ code: 'custom', message: `a rule has at most ${MAX_CONDITIONS} conditions` });
    if (depth > MAX_DEPTH) ctx.addIssue({ code: 'custom', message: `groups nest at most ${MAX_DEPTH} deep` });
  }) as z.ZodType<Rule>;

function measure(rule: Rule): { conditions: number; depth: number } {
  if (rule.type === 'all' || rule.type === 'any') {
    const parts = rule.rules.map(measure);
    return { conditions: parts.reduce((sum, part) => sum + part.conditions, 0), depth: 1 + Math.max(0, ...parts.map((part) => part.depth)) };
  }
  if (rule.type === 'not') {
    const inner = measure(rule.rule);
    return { conditions: inner.conditions, depth: inner.depth + 1 };
  }
  return { conditions: 1, depth: 0 };
}

/** The conditions of a rule, flattened (for descriptions and the builder). */
export function conditionsOf(rule: Rule): Condition[] {
  if (rule.type === 'all' || rule.type === 'any') return rule.rules.flatMap(conditionsOf);
  if (rule.type === 'not') return conditionsOf(rule.rule);
  return [rule];
}
