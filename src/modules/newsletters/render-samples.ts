import { clip } from '../../slack/mrkdwn.ts';
import { compileTemplate } from '../templates/compile-template.ts';
import type { CompiledTemplate, MergeLead } from '../templates/template.ts';
import type { NewsletterContent } from './newsletter.ts';

export interface SampleRender {
  /** `Name <address>` or the address. */
  to: string;
  subject: string;
  /** The first lines of the plain-text part, as the person would start reading it. */
  firstLines: string;
}

const SAMPLE_LINES = 3;
const SAMPLE_CHARACTERS = 280;

/** The newsletter's content rendered for real members, for the card (the unsubscribe link is a stand-in). */
export function renderSamples(content: NewsletterContent, leads: readonly MergeLead[], publicUrl: string): SampleRender[] {
  if (leads.length === 0) return [];
  const compiled = compileTemplate(content.template);
  return leads.map((lead) => renderSample(compiled, content, lead, publicUrl));
}

function renderSample(compiled: CompiledTemplate, content: NewsletterContent, lead: MergeLead, publicUrl: string): SampleRender {
  const rendered = compiled.render(lead, { senderName: content.senderName, postalAddress: content.postalAddress, unsubscribeUrl: `${publicUrl}/u/sample` });
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(' ');
  const lines = rendered.text.split('\n').map((line) => line.trim()).filter((line) => line !== '').slice(0, SAMPLE_LINES).join('\n');
  return {
    to: name ? `${name} <${lead.email}>` : lead.email,
    subject: rendered.subject,
    firstLines: clip(lines, SAMPLE_CHARACTERS),
  };
}
