import { describe, expect, it } from 'vitest';
import { decodeDraft, emptyDraft, encodeDraft, flattenRule, METADATA_LIMIT, type BuilderDraft } from '../../src/modules/segments/builder-draft.ts';
import { buildSegmentModal } from '../../src/modules/segments/build-segment-modal.ts';
import { MAX_CONDITIONS, type Condition } from '../../src/modules/segments/rule.ts';
import { applyBuilderChange, conditionLimitText, tooManyConditionsText } from '../../src/modules/segments/update-segment-builder.ts';
import { checkView } from '../support/block-kit-limits.ts';

const industry = (value: string): Condition => ({ type: 'field', field: 'industry', op: 'equals', value });
const sample = { kind: 'ready' as const, count: 1234, purpose: 'sending' as const, sample: [{ id: 1, email: 'a@example.com', first_name: 'A', last_name: 'B', company: 'C', title: 'D', stage: 'awareness', status: 'subscribed' }] };

describe('the builder draft in private_metadata', () => {
  it('round-trips every kind of condition compactly', () => {
    const draft: BuilderDraft = {
      segmentId: 7,
      generation: 3,
      editor: { field: 'attribute', attribute: 'plan', op: 'gte' },
      conditions: [
        industry('manufacturing'),
        { type: 'field', field: 'stage', op: 'one_of', value: ['decision', 'customer'] },
        { type: 'field', field: 'created_at', op: 'within_days', value: 30 },
        { type: 'attribute', name: 'employees', op: 'gt', value: 100 },
        { type: 'behaviour', behaviour: 'event', name: 'resource_download', where: { asset: 'whitepaper-x' }, at_least: 2, within_days: 14 },
        { type: 'behaviour', behaviour: 'email_clicked', never: true, within_days: 60 },
      ],
    };
    const encoded = encodeDraft(draft);
    expect(decodeDraft(encoded)).toEqual(draft);
    expect(encoded.length).toBeLessThan(JSON.stringify(draft).length * 0.8);
  });

  it('refuses a condition that would not fit in Slack’s 3,000 characters, and more than the rule model allows', () => {
    let draft = emptyDraft();
    const long = 'x'.repeat(190);
    let refusal: string | undefined;
    for (let i = 0; i < MAX_CONDITIONS && refusal === undefined; i += 1) {
      const editing = { ...draft, editor: { field: 'title' as const, op: 'contains' } };
      const outcome = applyBuilderChange(editing, { kind: 'add' }, { value: `${i}${long}` });
      refusal = outcome.editorError;
      draft = outcome.draft;
    }
    expect(refusal).toBe(tooManyConditionsText(draft.conditions.length));
    expect(encodeDraft(draft).length).toBeLessThanOrEqual(METADATA_LIMIT);

    const full = { ...emptyDraft(undefined, Array.from({ length: MAX_CONDITIONS }, (_, i) => industry(String(i)))), editor: { field: 'industry' as const, op: 'equals' } };
    expect(applyBuilderChange(full, { kind: 'add' }, { value: 'one more' }).editorError).toBe(conditionLimitText);
  });

  it('keeps the modal within Slack’s limits with the most conditions a rule may have', () => {
    const draft = { ...emptyDraft(1, Array.from({ length: MAX_CONDITIONS }, (_, i) => industry(String(i)))), editor: { field: 'page_visited' as const, op: 'at_least' } };
    expect(checkView(buildSegmentModal(draft, { details: { name: 'n'.repeat(80), description: 'd'.repeat(500), includeSuppressed: true }, preview: sample }), ['modal'])).toBeNull();
  });

  it('opens flat rules in the form and leaves "or" groups to the text form', () => {
    expect(flattenRule(industry('a'))).toEqual([industry('a')]);
    expect(
      flattenRule({
        type: 'all',
        rules: [
          { type: 'not', rule: industry('a') },
          { type: 'not', rule: { type: 'behaviour', behaviour: 'email_clicked', within_days: 60 } },
          { type: 'not', rule: { type: 'field', field: 'title', op: 'is_set' } },
        ],
      }),
    ).toEqual([
      { type: 'field', field: 'industry', op: 'not_equals', value: 'a' },
      { type: 'behaviour', behaviour: 'email_clicked', within_days: 60, never: true },
      { type: 'field', field: 'title', op: 'not_set' },
    ]);
    expect(flattenRule({ type: 'any', rules: [industry('a'), industry('b')] })).toBeUndefined();
    expect(flattenRule({ type: 'all', rules: [industry('a'), { type: 'not', rule: { type: 'field', field: 'title', op: 'contains', value: 'VP' } }] })).toBeUndefined();
    expect(flattenRule({ type: 'not', rule: { type: 'behaviour', behaviour: 'email_opened', at_least: 3 } })).toBeUndefined();
  });
});
