import type { KnownBlock } from '@slack/types';
import { z } from 'zod';
import { ActionIds } from '../../slack/ids.ts';
import { clip, escapeMrkdwn, packLinesIntoSections, SECTION_MAX_CHARS as SECTION_LIMIT } from '../../slack/mrkdwn.ts';
import type { TemplateRow } from './queries.ts';
import type { MergeLead, RenderedEmail } from './template.ts';
import type { SlackMessage } from '../../slack/messages.ts';

/** Replies about templates (list, preview, saved). Pure builders; tests assert on these texts. */

/** Slack allows 50 blocks per message and 3,000 characters per section. */

/** Template names are the person's words: shown as text, never as Slack markup. */
export const templateName = (name: string) => `*${escapeMrkdwn(name)}*`;

/** How to type a name in a command: quoted when it has spaces. */
export const typedName = (name: string) => (/\s/.test(name) ? `"${name}"` : name);

/** A time people read in their own zone (Slack formats `<!date>`), with a fallback for old clients. */
const slackDate = (at: Date) => `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} at {time}|${at.toISOString().slice(0, 16).replace('T', ' ')} UTC>`;

export const NO_TEMPLATES_TEXT = 'There are no templates yet. Marketers write one with `/nurture template new`.';

/** `/nurture template list`: one line per template, packed into sections so hundreds stay within 50 blocks. */
export function templateListMessage(rows: readonly TemplateRow[]): SlackMessage {
  if (rows.length === 0) return { text: NO_TEMPLATES_TEXT };
  const lines = rows.map(
    (row) =>
      `• ${templateName(row.name)} · ${row.stage} · “${escapeMrkdwn(clip(row.subject.replace(/\s+/g, ' '), 120))}”\n      _edited by <@${row.updated_by}> ${slackDate(row.updated_at)}_`,
  );
  const { blocks, shown } = packLinesIntoSections<KnownBlock>(
    { type: 'section', text: { type: 'mrkdwn', text: `*Templates* (${rows.length}) — name · stage · subject` } },
    lines,
    (text) => ({ type: 'section', text: { type: 'mrkdwn', text } }),
  );
  const more = shown < lines.length ? `…and ${lines.length - shown} more. ` : '';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${more}Preview one: \`/nurture template show <name> [lead email]\`` }] });
  return { text: `${rows.length} ${rows.length === 1 ? 'template' : 'templates'}`, blocks };
}

/** What "Send me a test" carries: the template and the lead it was previewed for (none: the sample person). */
export const SendTestValueSchema = z.object({ templateId: z.number().int().positive(), leadId: z.number().int().positive().optional() });
export type SendTestValue = z.infer<typeof SendTestValueSchema>;

export interface TemplatePreview {
  template: TemplateRow;
  email: RenderedEmail;
  lead: MergeLead;
  /** True: the built-in sample person, not a lead. */
  sample: boolean;
  /** The workspace has no postal address yet (real sends are refused). */
  postalAddressMissing: boolean;
}

/** Room left in the text part's section for the note that it was cut. */
const PREVIEW_TEXT_LIMIT = SECTION_LIMIT - 100;

/**
 * `/nurture template show`: subject, preheader and the text part as the lead would get them (Slack cannot
 * show HTML), and "Send me a test" to see the real thing in a mail client.
 */
export function templatePreviewMessage({ template, email, lead, sample, postalAddressMissing }: TemplatePreview): SlackMessage {
  const heading = sample
    ? `:mag: ${templateName(template.name)} (${template.stage}) as the sample person *${escapeMrkdwn([lead.first_name, lead.last_name].filter(Boolean).join(' '))}* ` +
      `(${escapeMrkdwn([lead.title, lead.company].filter(Boolean).join(', '))}) would get it. _A made-up person, not one of your leads: add a lead’s email to preview for them._`
    : `:mag: ${templateName(template.name)} (${template.stage}) as the lead *${escapeMrkdwn(lead.email)}* would get it.`;
  const cut = email.text.length > PREVIEW_TEXT_LIMIT;
  const value: SendTestValue = sample ? { templateId: template.id } : { templateId: template.id, leadId: lead.id };
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: clip(heading, SECTION_LIMIT) } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Subject:* ${escapeMrkdwn(email.subject)}\n*Preheader:* ${email.preheader ? escapeMrkdwn(email.preheader) : '_none_'}`, SECTION_LIMIT) },
    },
    { type: 'divider' },
    // plain_text: the email's words exactly, with no Slack formatting or mentions read into them.
    { type: 'section', text: { type: 'plain_text', text: cut ? `${email.text.slice(0, PREVIEW_TEXT_LIMIT - 1)}…` : email.text, emoji: false } },
    { type: 'divider' },
  ];
  const notes = [
    cut ? `The preview stops at ${PREVIEW_TEXT_LIMIT.toLocaleString('en-US')} characters; the email has ${email.text.length.toLocaleString('en-US')}.` : '',
    'This is the text part: Slack cannot show the HTML one. Send yourself a test to see it in your mail client.',
    postalAddressMissing ? ':warning: No postal address is set yet: real sends are refused until an admin sets it with `/nurture settings`.' : '',
  ].filter(Boolean);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: notes.join(' ') }] });
  blocks.push({
    type: 'actions',
    elements: [{ type: 'button', action_id: ActionIds.templateSendTest, text: { type: 'plain_text', text: 'Send me a test' }, value: JSON.stringify(value) }],
  });
  return { text: `Preview of the template ${template.name}`, blocks };
}

/** In the preview's text part, in place of each person's own unsubscribe link. */
export const PREVIEW_UNSUBSCRIBE_URL = '(each person’s own unsubscribe link)';

/** After the editor's Save, by DM. */
export const templateSavedText = (row: TemplateRow, created: boolean) =>
  `:white_check_mark: ${created ? 'Saved the new template' : 'Saved your changes to'} ${templateName(row.name)} (${row.stage}). Preview it with \`/nurture template show ${typedName(row.name)}\`.`;

export const noSuchTemplateText = (name: string) => `There is no template called "${name}". \`/nurture template list\` shows them.`;

export const bodyTooLongForFormText = (name: string, length: number) =>
  `${templateName(name)} is ${length.toLocaleString('en-US')} characters long, more than a Slack form can hold (3,000), so it cannot be edited here.`;

export const SEND_TEST_STALE_TEXT = 'That button is no longer valid: the template or the lead is gone. `/nurture template list` shows the templates there are.';
