import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { z } from 'zod';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { clip, escapeMrkdwn } from '../../slack/mrkdwn.ts';

export const NewsletterBlockIds = {
  template: 'newsletter_template',
  segment: 'newsletter_segment',
  when: 'newsletter_when',
  date: 'newsletter_date',
  time: 'newsletter_time',
} as const;

export const WHEN_NOW = 'now';
export const WHEN_LATER = 'later';

/** A static select holds at most 100 options. */
const MAX_OPTIONS = 100;

/** Carried in the modal: the channel the command came from, where the card goes. */
export const NewsletterModalMetadataSchema = z.object({ channelId: z.string().min(1) });
export type NewsletterModalMetadata = z.infer<typeof NewsletterModalMetadataSchema>;

export interface NewsletterModalChoices {
  templates: ReadonlyArray<{ id: number; name: string; stage: string }>;
  segments: ReadonlyArray<{ id: number; name: string }>;
  timeZone: string;
  /** Today in the workspace's zone (YYYY-MM-DD), the date picker's start. */
  today: string;
  channelId: string;
}

const option = (text: string, value: string): PlainTextOption => ({ text: { type: 'plain_text', text: clip(text, 75) }, value });

/** `/nurture newsletter new`: which template, to which segment, and when (now, or a day and time in the workspace's zone). */
export function buildNewsletterModal(choices: NewsletterModalChoices): ModalView {
  const more = (shown: number, total: number, what: string) => (total > shown ? ` The first ${shown} of ${total} ${what} are listed.` : '');
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: NewsletterBlockIds.template,
      label: { type: 'plain_text', text: 'Template' },
      element: {
        type: 'static_select',
        action_id: ActionIds.newsletterTemplateInput,
        placeholder: { type: 'plain_text', text: 'Choose the email' },
        options: choices.templates.slice(0, MAX_OPTIONS).map((template) => option(`${template.name} · ${template.stage}`, String(template.id))),
      },
      hint: { type: 'plain_text', text: `What goes out is the template as it is now, even if it is edited later.${more(MAX_OPTIONS, choices.templates.length, 'templates')}` },
    },
    {
      type: 'input',
      block_id: NewsletterBlockIds.segment,
      label: { type: 'plain_text', text: 'Segment' },
      element: {
        type: 'static_select',
        action_id: ActionIds.newsletterSegmentInput,
        placeholder: { type: 'plain_text', text: 'Choose who gets it' },
        options: choices.segments.slice(0, MAX_OPTIONS).map((segment) => option(segment.name, String(segment.id))),
      },
      hint: { type: 'plain_text', text: `Unsubscribed, bounced and complained leads never get it; the frequency cap applies.${more(MAX_OPTIONS, choices.segments.length, 'segments')}` },
    },
    {
      type: 'input',
      block_id: NewsletterBlockIds.when,
      label: { type: 'plain_text', text: 'When' },
      hint: { type: 'plain_text', text: 'It goes out once approved, if that is in time: one approved too late expires instead of going out late.' },
      element: {
        type: 'radio_buttons',
        action_id: ActionIds.newsletterWhenInput,
        initial_option: option('Now', WHEN_NOW),
        options: [option('Now', WHEN_NOW), option('At a day and time', WHEN_LATER)],
      },
    },
    {
      type: 'input',
      block_id: NewsletterBlockIds.date,
      optional: true,
      label: { type: 'plain_text', text: 'Day' },
      element: { type: 'datepicker', action_id: ActionIds.newsletterDateInput, initial_date: choices.today },
    },
    {
      type: 'input',
      block_id: NewsletterBlockIds.time,
      optional: true,
      label: { type: 'plain_text', text: 'Time' },
      element: { type: 'timepicker', action_id: ActionIds.newsletterTimeInput, placeholder: { type: 'plain_text', text: 'e.g. 09:30' } },
      hint: { type: 'plain_text', text: `In the workspace's time zone, ${choices.timeZone} (an admin changes it with /nurture settings).` },
    },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'I’ll post the send plan in this channel. Another marketer or an admin approves it there.' }],
    },
  ];
  return {
    type: 'modal',
    callback_id: CallbackIds.newsletterModal,
    private_metadata: JSON.stringify({ channelId: choices.channelId } satisfies NewsletterModalMetadata),
    title: { type: 'plain_text', text: 'New newsletter' },
    submit: { type: 'plain_text', text: 'Make the plan' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** The modal while the plan is counted (after the submission was accepted). */
export function buildNewsletterNoticeModal(text: string): ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'New newsletter' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  };
}

export const PLANNING_TEXT = ':hourglass_flowing_sand: Counting the audience and making the send plan…';
export const planPostedText = (channelId: string, newsletterId: number) =>
  `:white_check_mark: The send plan for newsletter #${newsletterId} is in <#${channelId}>. Another marketer or an admin approves it there; nothing goes out before.`;
export const inviteBotText = (channelId: string) =>
  `:warning: I can't post in <#${channelId}>, so I made no plan. Invite me there (\`/invite @Nurture\`), or run \`/nurture newsletter new\` in a channel I'm in.`;
export const planFailedText = (reason: string) => `:x: I couldn't make the send plan: ${escapeMrkdwn(reason)}`;
