import { LiquidError } from 'liquidjs';
import { plainLiquid } from '../templates/liquid-engines.ts';
import { mergeScope } from '../templates/merge-scope.ts';
import type { MergeLead, TemplateContent } from '../templates/template.ts';
import type { OneToOneContent } from './one-to-one-template.ts';

/** Slack's limit for a text input: a longer draft could not be shown, let alone edited. */
export const BODY_MAX_CHARS = 3000;
/** one_to_one_emails.subject. */
export const SUBJECT_MAX_CHARS = 250;

/** A short follow-up in the rep's own voice, for channels without a follow-up template. */
export const BUILT_IN_FOLLOW_UP: Pick<TemplateContent, 'subject' | 'body'> = {
  subject: 'Quick follow-up{% if company %} for {{ company }}{% endif %}',
  body: [
    'Hi {{ first_name | default: "there" }},',
    '',
    'Thanks for taking a look at what we do{% if company %} — I’d be glad to help {{ company }} work out whether it fits{% endif %}.',
    '',
    'Would a short call this week be useful? I can answer your questions or walk you through it, whichever suits you best.',
  ].join('\n'),
};

export const templateTooLongNote = (name: string) =>
  `The channel’s follow-up template “${name}” is longer than a Slack form holds (${BODY_MAX_CHARS.toLocaleString('en-US')} characters), so here is a short one instead.`;
export const templateFailedNote = (name: string) => `The channel’s follow-up template “${name}” did not render for this lead, so here is a short one instead.`;

export interface FollowUpDraft extends OneToOneContent {
  /** Why the built-in follow-up stands in for the channel's template. */
  note?: string;
}

/**
 * The modal's subject and body for one lead: the channel's follow-up template (or the built-in one, signed
 * with the rep's name) with the lead's merge fields filled in, still Markdown, for the rep to edit.
 */
export function draftFollowUp(template: Pick<TemplateContent, 'name' | 'subject' | 'body'> | undefined, lead: MergeLead, repName: string): FollowUpDraft {
  if (template) {
    const draft = renderForLead(template, lead);
    if (!draft) return { ...builtIn(lead, repName), note: templateFailedNote(template.name) };
    if (draft.body.length > BODY_MAX_CHARS || draft.subject.length > SUBJECT_MAX_CHARS) return { ...builtIn(lead, repName), note: templateTooLongNote(template.name) };
    return draft;
  }
  return builtIn(lead, repName);
}

function builtIn(lead: MergeLead, repName: string): OneToOneContent {
  const draft = renderForLead(BUILT_IN_FOLLOW_UP, lead)!;
  // The name is added after rendering: it is the rep's, not Liquid.
  return repName ? { ...draft, body: `${draft.body}\n\nBest,\n${repName}` } : draft;
}

/** Merge fields filled in, the Markdown left as it is; undefined when the template fails for this lead (render limits). */
function renderForLead(template: Pick<TemplateContent, 'subject' | 'body'>, lead: MergeLead): OneToOneContent | undefined {
  const scope = mergeScope(markdownSafe(lead));
  try {
    const subject = String(plainLiquid.parseAndRenderSync(template.subject, scope)).replace(/\s+/g, ' ').trim();
    const body = String(plainLiquid.parseAndRenderSync(template.body, scope))
      .replace(/\n{3,}/g, '\n\n')
      .trim();
    return { subject, body };
  } catch (error) {
    if (error instanceof LiquidError) return undefined;
    throw error;
  }
}

/**
 * The lead's data becomes part of the rep's Markdown, which may hold HTML; templates escape lead data in
 * the HTML part, so here a `<` in it is escaped for Markdown (`\<`): it stays text in both parts.
 */
function markdownSafe(lead: MergeLead): MergeLead {
  const safe = (value: string | null) => value?.replace(/</g, '\\<') ?? null;
  const attributes = Object.fromEntries(Object.entries(lead.attributes).map(([key, value]) => [key, typeof value === 'string' ? safe(value) : value]));
  return {
    ...lead,
    first_name: safe(lead.first_name),
    last_name: safe(lead.last_name),
    company: safe(lead.company),
    title: safe(lead.title),
    industry: safe(lead.industry),
    attributes,
  };
}
