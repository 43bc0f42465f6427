import type { MergeLead } from './template.ts';

/** The merge fields a template may use, besides `attributes.<name>` (the lead's own attributes). */
export const MERGE_FIELDS = ['first_name', 'last_name', 'full_name', 'email', 'company', 'title', 'industry', 'stage'] as const;

export const ATTRIBUTES_FIELD = 'attributes';

export type MergeScope = Record<(typeof MERGE_FIELDS)[number], string | null> & { attributes: Record<string, unknown> };

/** What a template sees of a lead. Missing values are null, so `default:` fallbacks apply. */
export function mergeScope(lead: MergeLead): MergeScope {
  const fullName = [lead.first_name, lead.last_name].filter((part) => part !== null && part.trim() !== '').join(' ');
  return {
    first_name: lead.first_name,
    last_name: lead.last_name,
    full_name: fullName === '' ? null : fullName,
    email: lead.email,
    company: lead.company,
    title: lead.title,
    industry: lead.industry,
    stage: lead.stage,
    attributes: lead.attributes,
  };
}
