import type { MergeLead } from './template.ts';

/**
 * A made-up person for previews and tests when no lead is named: realistic enough to judge a template by
 * (a name, a company, a title, two attributes), on example.com so no real inbox is involved. Id 0: no
 * lead has it, so nothing is ever recorded against this person.
 */
export const SAMPLE_LEAD: MergeLead = Object.freeze({
  id: 0,
  email: 'yui.tanaka@example.com',
  first_name: 'Yui',
  last_name: 'Tanaka',
  company: 'Kojo Manufacturing',
  title: 'VP Operations',
  industry: 'manufacturing',
  stage: 'consideration',
  attributes: Object.freeze({ city: 'Osaka', employees: 420 }),
});

/** The sample person, or a copy of them (no real lead has id 0). */
export const isSampleLead = (lead: MergeLead) => lead.id === SAMPLE_LEAD.id;
