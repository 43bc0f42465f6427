import type { KnownBlock } from '@slack/types';
import { ActionIds } from '../../slack/ids.ts';
import { clip, escapeMrkdwn, packLinesIntoSections, SECTION_MAX_CHARS as SECTION_LIMIT } from '../../slack/mrkdwn.ts';
import { describeRule } from './describe-rule.ts';
import type { MemberRow, SegmentRow } from './queries.ts';
import type { SegmentUsage } from './segment-usages.ts';
import type { SlackMessage } from '../../slack/messages.ts';

/** Replies about segments (list, show, saved, delete). Pure builders; tests assert on these texts. */

/** Slack allows 50 blocks per message and 3,000 characters per section. */

const n = (value: number) => value.toLocaleString('en-US');
const leads = (count: number) => `${n(count)} ${count === 1 ? 'lead' : 'leads'}`;
/** Segment names are the person's words: shown as text, never as Slack markup. */
export const segmentName = (name: string) => `*${escapeMrkdwn(name)}*`;

export const purposeNote = (purpose: 'sending' | 'reporting') =>
  purpose === 'sending'
    ? '(subscribed leads only: unsubscribed, bounced and complained leads are never sent to)'
    : '(reporting: unsubscribed, bounced and complained leads are counted too)';

export const REPORTING_NOTE =
  ':bar_chart: A *reporting* segment: its counts include unsubscribed, bounced and complained leads. Anything that sends to it still leaves them out.';

/** One sample lead: who, what they do, where. Lead data is escaped: a company called <!here> pings no one. */
export function memberLine(member: MemberRow): string {
  const name = [member.first_name, member.last_name].filter(Boolean).join(' ');
  const role = [member.title, member.company].filter(Boolean).join(', ');
  const parts = [name || member.email, role, name ? member.email : '', member.stage].filter(Boolean);
  const status = member.status === 'subscribed' ? '' : ` _(${member.status})_`;
  return `• ${escapeMrkdwn(clip(parts.join(' · '), 280))}${status}`;
}

export interface ListedSegment {
  segment: SegmentRow;
  /** Counted now; undefined when counting took too long. */
  size: number | undefined;
  sizeWeekAgo: number | null;
}

/** "+56 since last week", "no change since last week", or "new" when there is no size from a week ago. */
export function changeSinceLastWeek(size: number | undefined, sizeWeekAgo: number | null): string {
  if (sizeWeekAgo === null) return 'new';
  if (size === undefined) return `${leads(sizeWeekAgo)} a week ago`;
  const change = size - sizeWeekAgo;
  if (change === 0) return 'no change since last week';
  return `${change > 0 ? '+' : '−'}${n(Math.abs(change))} since last week`;
}

/**
 * `/nurture segment list`: one compact line per segment, packed into sections so that even hundreds
 * of segments stay within Slack's 50 blocks; beyond that the rest is summarised.
 */
export function segmentListMessage(listed: readonly ListedSegment[]): SlackMessage {
  if (listed.length === 0) {
    return {
      text: 'There are no segments yet. Marketers create them with `/nurture segment new` (a form) or `/nurture segment new "Name" <rule>`.',
    };
  }
  const lines = listed.map(({ segment, size, sizeWeekAgo }) => {
    const sizeText = size === undefined ? '_too slow to count now_' : leads(size);
    const reporting = segment.include_suppressed ? ' · reporting' : '';
    const description = segment.description ? `\n      _${escapeMrkdwn(clip(segment.description.replace(/\s+/g, ' '), 120))}_` : '';
    return `• ${segmentName(segment.name)} — ${sizeText} · ${changeSinceLastWeek(size, sizeWeekAgo)}${reporting} · by <@${segment.created_by}>${description}`;
  });
  const { blocks, shown } = packLinesIntoSections<KnownBlock>(
    { type: 'section', text: { type: 'mrkdwn', text: `*Segments* (${n(listed.length)}) — size now and change since last week` } },
    lines,
    (text) => ({ type: 'section', text: { type: 'mrkdwn', text } }),
  );
  const footer = shown < lines.length ? `…and ${n(lines.length - shown)} more. ` : '';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${footer}Details: \`/nurture segment show <name>\`` }] });
  return { text: `${n(listed.length)} segments`, blocks };
}

export interface ShownSegment {
  segment: SegmentRow;
  count: number | undefined;
  sample: MemberRow[];
  usages: SegmentUsage[];
}

/** `/nurture segment show <name>`: the rule in words, its size now, five recent leads, where it is used. */
export function segmentShowMessage({ segment, count, sample, usages }: ShownSegment): SlackMessage {
  const purpose = segment.include_suppressed ? 'reporting' : 'sending';
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(`${segmentName(segment.name)}${segment.description ? `\n${escapeMrkdwn(segment.description)}` : ''}`, SECTION_LIMIT),
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`*Who is in it*\n${escapeMrkdwn(describeRule(segment.rule))}`, SECTION_LIMIT) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          count === undefined
            ? '*Size* — counting took too long just now; try again in a moment.'
            : `*Size* — *${leads(count)}* right now ${purposeNote(purpose)}` +
                (sample.length > 0 ? `\n*Most recent*\n${sample.map(memberLine).join('\n')}` : ''),
          SECTION_LIMIT,
        ),
      },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          usages.length === 0
            ? '*Used by* — not used yet.'
            : `*Used by*\n${usages.map((usage) => `• the ${usage.kind} ${segmentName(usage.name)}${usage.blocksDelete ? ' · keeps it from being deleted' : ''}`).join('\n')}`,
          SECTION_LIMIT,
        ),
      },
    },
  ];
  if (segment.include_suppressed) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: REPORTING_NOTE }] });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Made by <@${segment.created_by}>${segment.updated_by !== segment.created_by ? `, last changed by <@${segment.updated_by}>` : ''}.` }],
  });
  return { text: `Segment ${segment.name}: ${count === undefined ? 'size unknown' : leads(count)}`, blocks };
}

/** After creating or changing a segment (text form): what it means, how big it is, who is in it. */
export function segmentSavedMessage(segment: SegmentRow, created: boolean, count: number | undefined, sample: MemberRow[]): SlackMessage {
  const purpose = segment.include_suppressed ? 'reporting' : 'sending';
  const size = count === undefined ? 'Counting took too long just now; `/nurture segment show` will tell you its size.' : `*${leads(count)}* match right now ${purposeNote(purpose)}.`;
  const text = `:white_check_mark: ${created ? 'Created' : 'Changed'} the segment ${segmentName(segment.name)}: ${escapeMrkdwn(describeRule(segment.rule))}.\n${size}`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_LIMIT) } }];
  if (sample.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Most recent*\n${sample.map(memberLine).join('\n')}`, SECTION_LIMIT) } });
  return { text: clip(text, 3000), blocks };
}

/** A builder submission, confirmed by DM once counted. */
export function segmentBuiltText(segment: SegmentRow, created: boolean, count: number | undefined): string {
  const purpose = segment.include_suppressed ? 'reporting' : 'sending';
  const size = count === undefined ? 'counting took too long just now' : `*${leads(count)}* match right now ${purposeNote(purpose)}`;
  return `:white_check_mark: ${created ? 'Saved the new segment' : 'Saved your changes to'} ${segmentName(segment.name)}: ${size}. See it with \`/nurture segment show ${segment.name.includes(' ') ? `"${segment.name}"` : segment.name}\`.`;
}

export const nestedRuleText = (name: string) =>
  `${segmentName(name)} was built as nested groups (with "or"), which the form cannot show. Replace its rule with the text form: \`/nurture segment edit "${name}" <rule>\`, e.g. \`/nurture segment edit "${name}" industry:manufacturing stage:consideration\` (\`/nurture help segment\` has the whole syntax).`;

export const ruleTooLongForFormText = (name: string) =>
  `${segmentName(name)} has more conditions than the form can hold. Replace its rule with the text form: \`/nurture segment edit "${name}" <rule>\` (\`/nurture help segment\` has the whole syntax).`;

export const nameFirstText =
  'Give the segment a name first, in quotes if it has spaces: `/nurture segment new "Mfg VPs" industry:manufacturing title~VP` (or `/nurture segment new` for the form).';

export const noSuchSegmentText = (name: string) => `There is no segment called "${name}". \`/nurture segment list\` shows them.`;

/** Deleting changes who future sends reach, so it takes a second, deliberate click. */
export function segmentDeleteConfirmation(segment: SegmentRow): SlackMessage {
  const name = segmentName(segment.name);
  return {
    text: `Delete the segment ${segment.name}?`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `Delete the segment ${name} (${escapeMrkdwn(clip(describeRule(segment.rule), 500))})? Its leads stay; only the segment and its size history go. It cannot be undone.` },
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: ActionIds.segmentDeleteConfirm,
            style: 'danger',
            text: { type: 'plain_text', text: 'Delete this segment' },
            value: String(segment.id),
            confirm: {
              title: { type: 'plain_text', text: 'Delete for good?' },
              text: { type: 'plain_text', text: clip(`The segment "${segment.name}" will be deleted.`, 300) },
              confirm: { type: 'plain_text', text: 'Delete' },
              deny: { type: 'plain_text', text: 'Cancel' },
              style: 'danger',
            },
          },
        ],
      },
    ],
  };
}

export const segmentDeletedText = (name: string) => `Deleted the segment ${segmentName(name)}.`;

export const exportQueuedText = (name: string) =>
  `:hourglass_flowing_sand: Exporting ${segmentName(name)}. I’ll send you the CSV as a direct message when it is ready.`;

export const exportReadyText = (name: string, rows: number, purpose: 'sending' | 'reporting') =>
  `:page_facing_up: ${segmentName(name)} as a CSV: ${leads(rows)} ${purposeNote(purpose)}. It holds personal data: share it only with people who need it.`;

export const exportGoneText = (name: string) => `:x: I couldn’t export ${segmentName(name)}: the segment was deleted before the export started.`;
