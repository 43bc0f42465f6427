import { UsageError } from '../../lib/errors.ts';
import type { Token } from '../../slack/command-text.ts';
import type { z } from 'zod';
import { LEAD_STAGES, LEAD_STATUSES } from '../leads/lead-input.ts';
import { ConditionSchema, DATE_FIELDS, RuleSchema, TEXT_FIELDS, type BehaviourCondition, type Condition, type Rule } from './rule.ts';

/**
 * The text form of a segment rule, for people who prefer typing:
 *   industry:manufacturing title~VP stage:consideration visited:/pricing within:30d -clicked:any within:60d
 * Conditions separated by spaces must all hold; `or` separates alternatives. Errors name the token
 * and the character where it starts, and say what was expected.
 */

export class SegmentSyntaxError extends UsageError {
  override name = 'SegmentSyntaxError';
  readonly position: number;
  constructor(token: Token, problem: string) {
    super(`At \`${token.value}\` (character ${token.start + 1}): ${problem}`);
    this.position = token.start;
  }
}

export const SEGMENT_GRAMMAR_HELP = [
  '*Writing a segment rule* — conditions separated by spaces must all hold; `or` separates alternatives.',
  '• Fields: `industry:manufacturing` (is), `industry:software,finance` (one of), `title~VP` (contains), `company^Acme` (starts with), `owner:*` (is set), `-company:*` (not set)',
  `   fields: ${TEXT_FIELDS.join(', ')}, stage, status`,
  '• Stage and status: `stage:consideration`, `stage:decision,customer`, `status:subscribed`',
  '• Dates: `created:30d` (in the last 30 days), `created>2026-01-01`, `consented<2025-06-30` (created, updated, consented)',
  '• Custom attributes: `attr.plan:enterprise`, `attr.employees>=100`, `attr.renewal<2027-01-01`, `attr.region~EU`',
  '• Behaviour: `visited:/pricing` (`*` matches anything: `visited:/products/*`), `opened:any`, `clicked:any`, `clicked:<message>`, `did:resource_download[asset=whitepaper-x]`',
  '   then optionally `within:30d` (or `4w`), `times:3+` (at least), `times:2-` (at most), `times:3` (exactly), `with:machines` (count machine activity too)',
  '• `-` in front negates: `-clicked:any within:60d` = no click in 60 days',
  'Example: `/nurture segment new "Mfg VPs" industry:manufacturing title~VP stage:consideration visited:/pricing within:30d -clicked:any within:60d`',
].join('\n');

const FIELD_ALIASES: Record<string, string> = { first: 'first_name', last: 'last_name', timezone: 'time_zone', tz: 'time_zone', language: 'locale' };
const DATE_ALIASES: Record<string, (typeof DATE_FIELDS)[number]> = { created: 'created_at', updated: 'updated_at', consented: 'consent_at' };
const BEHAVIOUR_KEYS = new Set(['visited', 'opened', 'clicked', 'did']);
const MODIFIER_KEYS = new Set(['within', 'times', 'with']);

const CONDITION_PATTERN = /^(-?)([A-Za-z_][A-Za-z0-9_]*(?:\.[^\s:~^<>=!]+)?)(>=|<=|:|~|\^|>|<)(.*)$/s;

export function parseSegmentExpression(tokens: readonly Token[]): Rule {
  if (tokens.length === 0) throw new UsageError(`Say who belongs in the segment, e.g. \`industry:manufacturing stage:consideration\`.\n${SEGMENT_GRAMMAR_HELP}`);
  const alternatives: Rule[][] = [[]];
  let lastBehaviour: { token: Token; condition: BehaviourCondition; negated: boolean; index: number } | undefined;

  for (const token of tokens) {
    if (token.value.toLowerCase() === 'or') {
      if (alternatives.at(-1)!.length === 0) throw new SegmentSyntaxError(token, '`or` needs a condition on each side');
      alternatives.push([]);
      lastBehaviour = undefined;
      continue;
    }
    const match = CONDITION_PATTERN.exec(token.value);
    if (!match) throw new SegmentSyntaxError(token, 'expected a condition such as `industry:manufacturing`, `title~VP` or `visited:/pricing`');
    const [, minus, rawKey, operator, value] = match as unknown as [string, string, string, string, string];
    const key = rawKey.toLowerCase();
    const current = alternatives.at(-1)!;

    if (MODIFIER_KEYS.has(key)) {
      if (!lastBehaviour || lastBehaviour.index !== current.length - 1) {
        throw new SegmentSyntaxError(token, `\`${key}:\` applies to the behaviour just before it (visited:, opened:, clicked: or did:)`);
      }
      if (operator !== ':') throw new SegmentSyntaxError(token, `write \`${key}:\` with a colon`);
      applyModifier(token, key, value, lastBehaviour.condition);
      current[current.length - 1] = finishBehaviour(token, lastBehaviour.condition, lastBehaviour.negated);
      continue;
    }
    if (value === '') throw new SegmentSyntaxError(token, `expected a value after \`${operator}\``);

    if (BEHAVIOUR_KEYS.has(key)) {
      if (operator !== ':') throw new SegmentSyntaxError(token, `write behaviour with a colon, e.g. \`${key}:${key === 'visited' ? '/pricing' : key === 'did' ? 'resource_download' : 'any'}\``);
      const condition = behaviourCondition(token, key, value);
      lastBehaviour = { token, condition, negated: minus === '-', index: current.length };
      current.push(finishBehaviour(token, condition, minus === '-'));
      continue;
    }
    const condition = fieldCondition(token, key, operator, value);
    const checked = check(token, condition);
    current.push(minus === '-' ? { type: 'not', rule: checked } : checked);
  }
  if (alternatives.at(-1)!.length === 0) throw new SegmentSyntaxError(tokens.at(-1)!, '`or` needs a condition on each side');

  const groups: Rule[] = alternatives.map((conditions) => (conditions.length === 1 ? conditions[0]! : { type: 'all', rules: conditions }));
  const rule: Rule = groups.length === 1 ? groups[0]! : { type: 'any', rules: groups };
  const parsed = RuleSchema.safeParse(rule);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]!.message);
  return parsed.data;
}

function fieldCondition(token: Token, key: string, operator: string, value: string): Condition {
  if (key.startsWith('attr.')) return attributeCondition(token, rawName(token), operator, value);
  const field = FIELD_ALIASES[key] ?? key;
  const dateField = DATE_ALIASES[key] ?? ((DATE_FIELDS as readonly string[]).includes(field) ? (field as (typeof DATE_FIELDS)[number]) : undefined);
  if (dateField) return { type: 'field', field: dateField, ...dateOperation(token, operator, value) } as Condition;
  if (!(TEXT_FIELDS as readonly string[]).includes(field) && field !== 'stage' && field !== 'status') {
    throw new SegmentSyntaxError(token, `I don't know "${rawKey(token)}". Fields are ${TEXT_FIELDS.join(', ')}, stage, status, created, updated, consented; custom attributes are written attr.<name>, e.g. attr.plan:pro`);
  }
  const operation = textOperation(token, operator, value, field === 'stage' || field === 'status');
  if (field === 'stage' || field === 'status') {
    const allowed: readonly string[] = field === 'stage' ? LEAD_STAGES : LEAD_STATUSES;
    const values = 'value' in operation ? [operation.value].flat() : [];
    const wrong = values.find((item) => !allowed.includes(String(item)));
    if (wrong !== undefined || !('value' in operation) || (operation.op !== 'equals' && operation.op !== 'one_of')) {
      throw new SegmentSyntaxError(token, `${field} is one of ${allowed.join(', ')} (e.g. ${field}:${allowed[1]} or ${field}:${allowed[1]},${allowed[2]})`);
    }
  }
  return { type: 'field', field, ...operation } as Condition;
}

function rawKey(token: Token): string {
  return CONDITION_PATTERN.exec(token.value)?.[2] ?? token.value;
}

/** `attr.<name>` keeps the name as typed (attribute names are case-sensitive). */
function rawName(token: Token): string {
  return rawKey(token).slice('attr.'.length);
}

function textOperation(token: Token, operator: string, value: string, lowercase: boolean) {
  const normalise = (text: string) => (lowercase ? text.toLowerCase() : text);
  switch (operator) {
    case ':':
      if (value === '*') return { op: 'is_set' };
      if (value.includes(',')) return { op: 'one_of', value: value.split(',').map((item) => normalise(item.trim())).filter(Boolean) };
      return { op: 'equals', value: normalise(value) };
    case '~':
      return { op: 'contains', value };
    case '^':
      return { op: 'starts_with', value };
    default:
      throw new SegmentSyntaxError(token, `\`${operator}\` compares numbers and dates; for text use \`:\` (is), \`~\` (contains) or \`^\` (starts with)`);
  }
}

function dateOperation(token: Token, operator: string, value: string) {
  if (operator === ':') {
    if (value === '*') return { op: 'is_set' };
    return { op: 'within_days', value: days(token, value) };
  }
  if (operator === '<' || operator === '>') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new SegmentSyntaxError(token, 'expected a date written YYYY-MM-DD, e.g. created>2026-01-01');
    return { op: operator === '<' ? 'before' : 'after', value };
  }
  throw new SegmentSyntaxError(token, 'dates take `:30d` (in the last 30 days), `<YYYY-MM-DD` (before) or `>YYYY-MM-DD` (after)');
}

function attributeCondition(token: Token, name: string, operator: string, value: string): Condition {
  if (name === '') throw new SegmentSyntaxError(token, 'name the attribute after attr., e.g. attr.plan:pro');
  if (operator === ':' || operator === '~' || operator === '^') {
    if (operator === ':' && /^\d+[dw]$/.test(value)) return { type: 'attribute', name, op: 'within_days', value: days(token, value) };
    return { type: 'attribute', name, ...textOperation(token, operator, value, false) } as Condition;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && (operator === '<' || operator === '>')) {
    return { type: 'attribute', name, op: operator === '<' ? 'before' : 'after', value };
  }
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new SegmentSyntaxError(token, `expected a number or a date (YYYY-MM-DD) after \`${operator}\``);
  const op = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' }[operator] as 'gt' | 'gte' | 'lt' | 'lte';
  return { type: 'attribute', name, op, value: number };
}

function behaviourCondition(token: Token, key: string, value: string): BehaviourCondition {
  switch (key) {
    case 'visited':
      if (!value.startsWith('/')) throw new SegmentSyntaxError(token, 'expected a page path starting with /, e.g. visited:/pricing or visited:/products/*');
      return { type: 'behaviour', behaviour: 'page_visited', url: value };
    case 'opened':
    case 'clicked': {
      const behaviour = key === 'opened' ? 'email_opened' : 'email_clicked';
      return value.toLowerCase() === 'any' ? { type: 'behaviour', behaviour } : { type: 'behaviour', behaviour, message: value };
    }
    default: {
      const event = /^([A-Za-z][A-Za-z0-9_.:-]*)(?:\[(.*)\])?$/.exec(value);
      if (!event) throw new SegmentSyntaxError(token, 'expected an event name, optionally with properties: did:resource_download[asset=whitepaper-x]');
      const where: Record<string, string | number | boolean> = {};
      for (const pair of event[2] ? event[2].split(',') : []) {
        const [property, propertyValue] = pair.split('=').map((part) => part.trim());
        if (!property || propertyValue === undefined || propertyValue === '') {
          throw new SegmentSyntaxError(token, `expected property=value inside [ ], e.g. [asset=whitepaper-x]; got "${pair}"`);
        }
        where[property] = /^-?\d+(\.\d+)?$/.test(propertyValue) ? Number(propertyValue) : propertyValue === 'true' ? true : propertyValue === 'false' ? false : propertyValue;
      }
      return { type: 'behaviour', behaviour: 'event', name: event[1]!, ...(event[2] ? { where } : {}) };
    }
  }
}

function applyModifier(token: Token, key: string, value: string, condition: BehaviourCondition) {
  if (key === 'within') {
    condition.within_days = days(token, value);
  } else if (key === 'times') {
    const times = /^(\d+)([+-]?)$/.exec(value);
    if (!times) throw new SegmentSyntaxError(token, 'expected a count: times:3+ (at least 3), times:2- (at most 2) or times:3 (exactly 3)');
    const count = Number(times[1]);
    if (times[2] !== '-') condition.at_least = count;
    if (times[2] !== '+') condition.at_most = count;
    if (condition.at_least === 0) delete condition.at_least;
  } else if (value.toLowerCase() === 'machines') {
    condition.include_machine = true;
  } else {
    throw new SegmentSyntaxError(token, 'the only `with:` is `with:machines` (count machine opens and clicks too)');
  }
}

function days(token: Token, value: string): number {
  const match = /^(\d+)([dw])$/.exec(value);
  if (!match) throw new SegmentSyntaxError(token, 'expected days like 30d or weeks like 4w');
  return Number(match[1]) * (match[2] === 'w' ? 7 : 1);
}

/** A negated behaviour without a count reads as "never"; with a count, as not(…). */
function finishBehaviour(token: Token, condition: BehaviourCondition, negated: boolean): Rule {
  const hasCount = condition.at_least !== undefined || condition.at_most !== undefined;
  if (negated && !hasCount) return check(token, { ...condition, never: true });
  const checked = check(token, { ...condition, never: undefined });
  return negated ? { type: 'not', rule: checked } : checked;
}

function check(token: Token, condition: Condition): Condition {
  const parsed = ConditionSchema.safeParse(JSON.parse(JSON.stringify(condition)));
  if (!parsed.success) throw new SegmentSyntaxError(token, meaningfulMessage(parsed.error.issues));
  return parsed.data;
}

/** A union reports "Invalid input"; the useful words are in the branch that got furthest. */
function meaningfulMessage(issues: readonly z.core.$ZodIssue[]): string {
  for (const issue of issues) {
    if (issue.code === 'invalid_union') {
      const branches = issue.errors.map((branch) => branch.filter((inner) => !(inner.code === 'invalid_value' && ['type', 'field', 'op'].includes(String(inner.path[0])))));
      const best = branches.filter((branch) => branch.length > 0).sort((a, b) => a.length - b.length)[0];
      if (best) return meaningfulMessage(best);
    }
    return issue.message;
  }
  return 'this condition is not valid';
}
