import type { BehaviourCondition, Condition, Rule } from './rule.ts';

/** A rule in plain words, e.g. `industry is "manufacturing" and visited /pricing in the last 30 days`. */
export function describeRule(rule: Rule): string {
  switch (rule.type) {
    case 'all':
      return rule.rules.length === 0 ? 'every lead' : rule.rules.map((inner) => wrap(inner, describeRule(inner))).join(' and ');
    case 'any':
      return rule.rules.map((inner) => wrap(inner, describeRule(inner))).join(' or ');
    case 'not':
      return `not (${describeRule(rule.rule)})`;
    default:
      return describeCondition(rule);
  }
}

function wrap(rule: Rule, text: string): string {
  return rule.type === 'all' || rule.type === 'any' ? `(${text})` : text;
}

const FIELD_LABELS: Record<string, string> = {
  first_name: 'first name',
  last_name: 'last name',
  time_zone: 'time zone',
  created_at: 'became a lead',
  updated_at: 'last changed',
  consent_at: 'consented',
};

export function describeCondition(condition: Condition): string {
  if (condition.type === 'behaviour') return describeBehaviour(condition);
  const subject = condition.type === 'attribute' ? `${condition.name}` : (FIELD_LABELS[condition.field] ?? condition.field);
  const value = 'value' in condition ? condition.value : undefined;
  const quoted = (item: unknown) => (typeof item === 'number' ? String(item) : `"${String(item)}"`);
  switch (condition.op) {
    case 'equals':
      return `${subject} is ${quoted(value)}`;
    case 'not_equals':
      return `${subject} is not ${quoted(value)}`;
    case 'one_of':
      return `${subject} is one of ${(value as unknown[]).map(quoted).join(', ')}`;
    case 'contains':
      return `${subject} contains ${quoted(value)}`;
    case 'starts_with':
      return `${subject} starts with ${quoted(value)}`;
    case 'is_set':
      return `${subject} is set`;
    case 'not_set':
      return `${subject} is not set`;
    case 'gt':
      return `${subject} > ${value}`;
    case 'gte':
      return `${subject} ≥ ${value}`;
    case 'lt':
      return `${subject} < ${value}`;
    case 'lte':
      return `${subject} ≤ ${value}`;
    case 'before':
      return `${subject} before ${value}`;
    case 'after':
      return `${subject} after ${value}`;
    case 'within_days':
      return `${subject} in the last ${value} days`;
    case 'not_within_days':
      return `${subject} not in the last ${value} days`;
  }
}

function describeBehaviour(condition: BehaviourCondition): string {
  let what: string;
  switch (condition.behaviour) {
    case 'email_opened':
      what = 'opened an email';
      break;
    case 'email_clicked':
      what = 'clicked an email';
      break;
    case 'page_visited':
      what = `visited ${condition.url}`;
      break;
    case 'event':
      what = `did ${condition.name}`;
  }
  const about = [
    condition.message ? `message "${condition.message}"` : '',
    condition.sequence ? `in sequence "${condition.sequence}"` : '',
    condition.link ? `link ${condition.link}` : '',
    ...Object.entries(condition.where ?? {}).map(([key, value]) => `${key} = ${JSON.stringify(value)}`),
  ].filter(Boolean);
  if (about.length > 0) what += ` (${about.join(', ')})`;
  const count =
    condition.at_least !== undefined && condition.at_most !== undefined
      ? ` ${condition.at_least}–${condition.at_most} times`
      : condition.at_least !== undefined
        ? ` at least ${condition.at_least} times`
        : condition.at_most !== undefined
          ? ` at most ${condition.at_most} times`
          : '';
  const window = condition.within_days !== undefined ? ` in the last ${condition.within_days} days` : ' ever';
  const machine = condition.include_machine ? ' (machine activity included)' : '';
  return condition.never ? `never ${what}${window}${machine}` : `${what}${count}${window}${machine}`;
}
