import type { KnownBlock, ModalView } from '@slack/types';
import { z } from 'zod';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { clip, escapeMrkdwn } from '../../slack/mrkdwn.ts';
import type { LeadStatus } from '../leads/lead-input.ts';
import { BODY_MAX_CHARS, SUBJECT_MAX_CHARS, type FollowUpDraft } from './draft-follow-up.ts';

/** The form's inputs, one per block; each holds ActionIds.oneToOneInput and is read by its block id. */
export const OneToOneBlockIds = {
  fromName: 'one_to_one_from_name',
  replyTo: 'one_to_one_reply_to',
  subject: 'one_to_one_subject',
  body: 'one_to_one_body',
} as const;

/** one_to_one_emails.sender_name and reply_to. */
export const FROM_NAME_MAX_CHARS = 80;
export const REPLY_TO_MAX_CHARS = 254;

/** The alert the form was opened from and its lead, carried to the submission. */
export const OneToOneMetadataSchema = z.object({ alertId: z.number().int().positive(), leadId: z.number().int().positive() });
export type OneToOneMetadata = z.infer<typeof OneToOneMetadataSchema>;

/** Who the email goes to, as the form shows them. */
export interface Recipient {
  email: string;
  first_name: string | null;
  last_name: string | null;
}

export interface OneToOneForm {
  metadata: OneToOneMetadata;
  to: Recipient;
  fromName: string;
  /** Empty when Slack has no address for the rep: they type one. */
  replyTo: string;
  draft: FollowUpDraft;
}

const TITLE = 'Email 1:1';

/** "Yui Tanaka <yui@example.com>", or the address alone. */
export const recipientLabel = (lead: Recipient) => {
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(' ');
  return name ? `${name} <${lead.email}>` : lead.email;
};

/** The person's name for messages about them: their name, else their address. */
export const recipientName = (lead: Recipient) => [lead.first_name, lead.last_name].filter(Boolean).join(' ') || lead.email;

export const FORM_NOTE =
  'Sent through Nurture in your name with the workspace’s footer and unsubscribe link; replies go to your reply-to address. It counts toward the lead’s frequency cap but is never held by it.';
export const BODY_HINT = 'Markdown, as in templates: **bold**, [a link](https://…); a blank line starts a new paragraph.';

function textInput(blockId: string, label: string, initial: string, options: { max: number; multiline?: boolean; hint?: string }): KnownBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: { type: 'plain_text', text: label },
    element: {
      type: 'plain_text_input',
      action_id: ActionIds.oneToOneInput,
      max_length: options.max,
      ...(options.multiline ? { multiline: true } : {}),
      ...(initial ? { initial_value: clip(initial, options.max) } : {}),
    },
    ...(options.hint ? { hint: { type: 'plain_text', text: options.hint } } : {}),
  };
}

/** The form, prefilled: the lead (shown, not editable), the rep's name and reply-to, the drafted subject and body. */
export function buildOneToOneModal(form: OneToOneForm): ModalView {
  const notes = [form.draft.note, FORM_NOTE].filter((note): note is string => Boolean(note));
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*To:* ${escapeMrkdwn(recipientLabel(form.to))}` } },
    { type: 'context', elements: notes.map((note) => ({ type: 'mrkdwn' as const, text: escapeMrkdwn(note) })) },
    textInput(OneToOneBlockIds.fromName, 'From (your name)', form.fromName, { max: FROM_NAME_MAX_CHARS }),
    {
      type: 'input',
      block_id: OneToOneBlockIds.replyTo,
      label: { type: 'plain_text', text: 'Reply-to' },
      element: { type: 'email_text_input', action_id: ActionIds.oneToOneInput, ...(form.replyTo ? { initial_value: form.replyTo } : {}) },
      hint: { type: 'plain_text', text: 'Where the lead’s answer goes: your own address.' },
    },
    textInput(OneToOneBlockIds.subject, 'Subject', form.draft.subject, { max: SUBJECT_MAX_CHARS }),
    textInput(OneToOneBlockIds.body, 'Message', form.draft.body, { max: BODY_MAX_CHARS, multiline: true, hint: BODY_HINT }),
  ];
  return {
    type: 'modal',
    callback_id: CallbackIds.oneToOneModal,
    private_metadata: JSON.stringify(form.metadata),
    title: { type: 'plain_text', text: TITLE },
    submit: { type: 'plain_text', text: 'Send' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** Instead of the form (no email can go) and after sending: what happened, and a Close button. */
export function buildOneToOneNoticeModal(text: string): ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: TITLE },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, 3000) } }],
  };
}

const who = (lead: Recipient) => `*${escapeMrkdwn(recipientLabel(lead))}*`;

/** Why no email can go to the lead, by their status (they are not subscribed). */
export const cannotEmailText = (lead: Recipient, status: Exclude<LeadStatus, 'subscribed'>): string =>
  ({
    unsubscribed: `:no_entry_sign: ${who(lead)} unsubscribed, so no email can go to them from Nurture, not even a 1:1.`,
    bounced: `:warning: ${who(lead)}’s address bounced: it does not accept mail, so no email can go to them.`,
    complained: `:warning: ${who(lead)} marked our email as spam, so no email can go to them.`,
  })[status];

export const LEAD_ERASED_TEXT = ':wastebasket: This lead was erased from Nurture: there is no one to email.';
export const FORM_STALE_TEXT = 'This form is out of date. Click *Email 1:1* on the alert again.';
export const NO_POSTAL_ADDRESS_TEXT =
  ':warning: The workspace has no postal address yet, and every email Nurture sends carries one in its footer (anti-spam law). An admin sets it with `/nurture settings`.';

export const emailQueuedText = (lead: Recipient) =>
  `:email: Your email to ${who(lead)} is on its way. It is logged on the lead card: \`/nurture lead ${lead.email}\`.`;
export const emailAlreadySentText = (lead: Recipient) => `:email: You just sent this same email to ${who(lead)}: it goes out once.`;
