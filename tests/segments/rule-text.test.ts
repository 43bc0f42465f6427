import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/slack/command-text.ts';
import { parseSegmentExpression } from '../../src/modules/segments/parse-segment-text.ts';

const parse = (text: string) => parseSegmentExpression(tokenize(text));
const failure = (text: string) => {
  try {
    parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected "${text}" to be refused`);
};

describe('the segment text form', () => {
  it('reads the example from the help into the rule it means', () => {
    expect(parse('industry:manufacturing title~VP stage:consideration visited:/pricing within:30d -clicked:any within:60d')).toEqual({
      type: 'all',
      rules: [
        { type: 'field', field: 'industry', op: 'equals', value: 'manufacturing' },
        { type: 'field', field: 'title', op: 'contains', value: 'VP' },
        { type: 'field', field: 'stage', op: 'equals', value: 'consideration' },
        { type: 'behaviour', behaviour: 'page_visited', url: '/pricing', within_days: 30 },
        { type: 'behaviour', behaviour: 'email_clicked', never: true, within_days: 60 },
      ],
    });
  });

  it('reads every operator', () => {
    expect(parse('industry:software,finance')).toEqual({ type: 'field', field: 'industry', op: 'one_of', value: ['software', 'finance'] });
    expect(parse('company^Acme')).toEqual({ type: 'field', field: 'company', op: 'starts_with', value: 'Acme' });
    expect(parse('owner:*')).toEqual({ type: 'field', field: 'owner', op: 'is_set' });
    expect(parse('-company:*')).toEqual({ type: 'not', rule: { type: 'field', field: 'company', op: 'is_set' } });
    expect(parse('stage:Decision,customer')).toEqual({ type: 'field', field: 'stage', op: 'one_of', value: ['decision', 'customer'] });
    expect(parse('created:2w')).toEqual({ type: 'field', field: 'created_at', op: 'within_days', value: 14 });
    expect(parse('consented<2025-06-30')).toEqual({ type: 'field', field: 'consent_at', op: 'before', value: '2025-06-30' });
    expect(parse('attr.Employees>=100')).toEqual({ type: 'attribute', name: 'Employees', op: 'gte', value: 100 });
    expect(parse('attr.renewal<2027-01-01')).toEqual({ type: 'attribute', name: 'renewal', op: 'before', value: '2027-01-01' });
    expect(parse('attr.plan:pro')).toEqual({ type: 'attribute', name: 'plan', op: 'equals', value: 'pro' });
    expect(parse('did:resource_download[asset=whitepaper-x,pages=12] times:2+')).toEqual({
      type: 'behaviour',
      behaviour: 'event',
      name: 'resource_download',
      where: { asset: 'whitepaper-x', pages: 12 },
      at_least: 2,
    });
    expect(parse('opened:welcome-1 times:3 with:machines')).toEqual({ type: 'behaviour', behaviour: 'email_opened', message: 'welcome-1', at_least: 3, at_most: 3, include_machine: true });
    expect(parse('-visited:/pricing times:2+')).toEqual({ type: 'not', rule: { type: 'behaviour', behaviour: 'page_visited', url: '/pricing', at_least: 2 } });
    expect(parse('title~"vice president" or stage:decision')).toEqual({
      type: 'any',
      rules: [
        { type: 'field', field: 'title', op: 'contains', value: 'vice president' },
        { type: 'field', field: 'stage', op: 'equals', value: 'decision' },
      ],
    });
  });

  it('reads comparisons as Slack sends them, with > and < escaped', () => {
    expect(parse('attr.employees&gt;=100 created&lt;2026-01-01 company~"AT&amp;T"')).toEqual({
      type: 'all',
      rules: [
        { type: 'attribute', name: 'employees', op: 'gte', value: 100 },
        { type: 'field', field: 'created_at', op: 'before', value: '2026-01-01' },
        { type: 'field', field: 'company', op: 'contains', value: 'AT&T' },
      ],
    });
  });

  it('points at the exact token and says what was expected', () => {
    expect(failure('industry:manufacturing titel~VP')).toBe(
      'At `titel~VP` (character 24): I don\'t know "titel". Fields are email, first_name, last_name, company, title, industry, source, time_zone, locale, owner, stage, status, created, updated, consented; custom attributes are written attr.<name>, e.g. attr.plan:pro',
    );
    expect(failure('title~')).toBe('At `title~` (character 1): expected a value after `~`');
    expect(failure('stage:hot')).toBe('At `stage:hot` (character 1): stage is one of awareness, consideration, decision, customer (e.g. stage:consideration or stage:consideration,decision)');
    expect(failure('industry:x within:30d')).toBe('At `within:30d` (character 12): `within:` applies to the behaviour just before it (visited:, opened:, clicked: or did:)');
    expect(failure('visited:/pricing within:30')).toBe('At `within:30` (character 18): expected days like 30d or weeks like 4w');
    expect(failure('visited:pricing')).toBe('At `visited:pricing` (character 1): expected a page path starting with /, e.g. visited:/pricing or visited:/products/*');
    expect(failure('attr.employees>many')).toBe('At `attr.employees>many` (character 1): expected a number or a date (YYYY-MM-DD) after `>`');
    expect(failure('title>5')).toMatch(/^At `title>5` \(character 1\): `>` compares numbers and dates/);
    expect(failure('did:download[asset]')).toMatch(/^At `did:download\[asset\]` \(character 1\): expected property=value inside \[ \]/);
    expect(failure('or stage:decision')).toBe('At `or` (character 1): `or` needs a condition on each side');
    expect(failure('what?')).toMatch(/^At `what\?` \(character 1\): expected a condition such as/);
    expect(failure('-clicked:any times:5+ within:4000d')).toBe('At `within:4000d` (character 23): at most 3650 days');
  });
});
