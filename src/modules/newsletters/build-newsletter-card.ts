import type { Button, KnownBlock } from '@slack/types';
import { ActionIds } from '../../slack/ids.ts';
import { clip, escapeMrkdwn } from '../../slack/mrkdwn.ts';
import type { LedgerState } from '../delivery/ledger-queries.ts';
import { formatInZone } from '../settings/zoned-time.ts';
import type { NewsletterRow } from './newsletter.ts';
import { mainStage } from './plan-newsletter.ts';
import { SENT_STATES } from './queries.ts';
import type { SampleRender } from './render-samples.ts';
import type { SlackMessage } from '../../slack/messages.ts';

/** Everything the send plan card shows; the card is rebuilt from these on every change. */
export interface CardFacts {
  newsletter: NewsletterRow;
  timeZone: string;
  selfApprovalBelow: number | null;
  sendExpiryMinutes: number;
  samples: readonly SampleRender[];
  /** The ledger by state, once the send started. */
  ledger: Partial<Record<LedgerState, number>>;
}

const count = (n: number) => n.toLocaleString('en-US');
const people = (n: number) => `${count(n)} ${n === 1 ? 'person' : 'people'}`;
const percent = (part: number, whole: number) => `${Math.round((100 * part) / Math.max(whole, 1))}%`;

export const stageWarningText = (contentStage: string, audienceStage: string, share: number) =>
  `:warning: This is *${contentStage}* content, but ${share > 0.5 ? 'most of this audience' : 'the biggest part of this audience'} (${percent(share, 1)}) is in *${audienceStage}*. Check it is the right email for them.`;

/** The ledger's counts as people read them. */
export function ledgerTotals(ledger: Partial<Record<LedgerState, number>>) {
  const of = (...states: LedgerState[]) => states.reduce((total, state) => total + (ledger[state] ?? 0), 0);
  return {
    sent: of(...SENT_STATES),
    failed: of('failed'),
    suppressed: of('suppressed'),
    capped: of('capped', 'deferred'),
    cancelled: of('cancelled'),
    pending: of('queued', 'sending'),
  };
}

/** The summary a finished (or stopped) send ends with. */
export function summaryText(ledger: Partial<Record<LedgerState, number>>): string {
  const totals = ledgerTotals(ledger);
  return `accepted *${count(totals.sent)}* · failed ${count(totals.failed)} · suppressed ${count(totals.suppressed)} · capped ${count(totals.capped)} · cancelled ${count(totals.cancelled)}`;
}

/**
 * The send plan card: what goes out, to whom, when, what it looks like for three real members, and where
 * it stands (who asked, who approved or stopped it, the progress, the summary), with the buttons that
 * fit that status. `withButtons: false` for `/nurture newsletter show`.
 */
export function buildNewsletterCard(facts: CardFacts, options: { withButtons?: boolean } = {}): SlackMessage {
  const { newsletter, timeZone } = facts;
  const { template, plan } = newsletter.content;
  const when = formatInZone(newsletter.send_at, timeZone);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`Newsletter #${newsletter.id}: ${template.name}`, 150) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Template*\n${escapeMrkdwn(template.name)} (${template.stage})` },
        { type: 'mrkdwn', text: `*Subject*\n${escapeMrkdwn(clip(template.subject, 1900))}` },
        { type: 'mrkdwn', text: `*Segment*\n${escapeMrkdwn(plan.segmentName)}` },
        { type: 'mrkdwn', text: `*When*\n${when}` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: audienceText(newsletter) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: changeText(newsletter, timeZone) }] },
  ];
  if (plan.planned > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: splitText(newsletter) } });
  const main = mainStage(plan);
  if (main && main.stage !== template.stage) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: stageWarningText(template.stage, main.stage, main.share) } });
  }
  if (facts.samples.length > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*How it reads for ${facts.samples.length === 1 ? 'a member' : `${facts.samples.length} members`}*\n${facts.samples.map(sampleText).join('\n\n')}`, 3000) } });
  }
  blocks.push({ type: 'divider' }, { type: 'section', text: { type: 'mrkdwn', text: statusText(facts) } });
  const history = historyText(newsletter, timeZone);
  if (history) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: history }] });
  const buttons = options.withButtons === false ? [] : buttonsFor(newsletter);
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: `newsletter_actions_${newsletter.id}`, elements: buttons });
  return { text: `Newsletter #${newsletter.id} "${template.name}" to ${plan.segmentName}: ${STATUS_WORDS[newsletter.status]}`, blocks };
}

const STATUS_WORDS: Record<NewsletterRow['status'], string> = {
  awaiting_approval: 'waiting for approval',
  rejected: 'rejected',
  scheduled: 'approved and scheduled',
  sending: 'sending',
  paused: 'paused',
  sent: 'sent',
  cancelled: 'cancelled',
  expired: 'expired',
};

function audienceText({ content: { plan } }: NewsletterRow): string {
  const lines = [`*Audience:* ${people(plan.planned)} would get it right now.`];
  lines.push(
    `${count(plan.subscribed)} subscribed member${plan.subscribed === 1 ? '' : 's'} of the segment` +
      (plan.capped > 0 ? `, of whom ${count(plan.capped)} ${plan.capped === 1 ? 'is' : 'are'} held back by the frequency cap` : '; nobody is held back by the frequency cap') +
      (plan.suppressed > 0 ? `. ${count(plan.suppressed)} more left out: unsubscribed, bounced or complained.` : '.'),
  );
  if (plan.held > 0) lines.push(`${count(plan.held)} left out while sales is on ${plan.held === 1 ? 'it' : 'them'}: claimed from a hot-lead alert, nurture waits until the claim's hold ends.`);
  lines.push("_Suppression, the cap and reps' claims are checked again as it sends._");
  return lines.join('\n');
}

function changeText({ content: { plan } }: NewsletterRow, timeZone: string): string {
  if (!plan.previous) return 'The first newsletter to this segment.';
  const change = plan.planned - plan.previous.recipients;
  const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
  return `${sign}${count(Math.abs(change))} since the last newsletter to this segment (${count(plan.previous.recipients)} recipients, ${formatInZone(new Date(plan.previous.startedAt), timeZone)}).`;
}

function splitText({ content: { plan } }: NewsletterRow): string {
  const stages = plan.byStage.map((row) => `${row.stage} ${count(row.count)} (${percent(row.count, plan.planned)})`).join(' · ');
  const industries = [
    ...plan.byIndustry.map((row) => `${row.industry === null ? '_not known_' : escapeMrkdwn(clip(row.industry, 60))} ${count(row.count)}`),
    ...(plan.otherIndustries > 0 ? [`other ${count(plan.otherIndustries)}`] : []),
  ].join(' · ');
  return `*By stage:* ${stages}\n*By industry:* ${industries}`;
}

function sampleText(sample: SampleRender): string {
  const quoted = sample.firstLines.split('\n').map((line) => `> ${escapeMrkdwn(line)}`).join('\n');
  return `*To:* ${escapeMrkdwn(sample.to)}\n*Subject:* ${escapeMrkdwn(sample.subject)}${quoted ? `\n${quoted}` : ''}`;
}

function statusText(facts: CardFacts): string {
  const { newsletter, timeZone } = facts;
  const totals = ledgerTotals(facts.ledger);
  const total = newsletter.recipient_count ?? 0;
  switch (newsletter.status) {
    case 'awaiting_approval': {
      const self =
        facts.selfApprovalBelow !== null && newsletter.planned_count < facts.selfApprovalBelow
          ? ` (or <@${newsletter.requested_by}> themselves: it is below ${count(facts.selfApprovalBelow)} recipients)`
          : '';
      return `:hourglass_flowing_sand: *Waiting for approval* by a marketer or admin other than <@${newsletter.requested_by}>${self}.\n${expiryText(facts)}`;
    }
    case 'scheduled':
      return `:calendar: *Approved.* It goes out ${formatInZone(newsletter.send_at, timeZone)}.\n${expiryText(facts)}`;
    case 'sending':
      if (newsletter.recipient_count === null) return `:outbox_tray: *Starting:* ${count(totals.sent)} sent so far; the rest of the ${people(newsletter.planned_count)} are being added.`;
      return `:outbox_tray: *Sending:* ${count(totals.sent)} / ${count(total)} sent · ${count(totals.failed)} failed${totals.suppressed + totals.capped > 0 ? ` · ${count(totals.suppressed + totals.capped)} skipped` : ''}`;
    case 'paused':
      return `:double_vertical_bar: *Paused* after ${count(totals.sent)} / ${count(total)}: ${escapeMrkdwn(newsletter.pause_reason ?? 'no reason given')}\nA marketer or admin can resume it.`;
    case 'sent':
      return `:white_check_mark: *Sent* to ${people(total)}: ${summaryText(facts.ledger)}`;
    case 'cancelled':
      return newsletter.started_at
        ? `:no_entry_sign: *Cancelled* while sending; what had not gone out will not: ${summaryText(facts.ledger)}`
        : ':no_entry_sign: *Cancelled.* Nothing was sent.';
    case 'rejected':
      return ':x: *Rejected.* Nothing was sent.';
    case 'expired':
      return `:alarm_clock: *Expired.* It did not start in time after ${formatInZone(newsletter.send_at, timeZone)}, so it was not sent late. Nothing was sent.`;
  }
}

const expiryText = ({ newsletter, timeZone, sendExpiryMinutes }: CardFacts) =>
  `_If it has not started by ${formatInZone(new Date(newsletter.send_at.getTime() + sendExpiryMinutes * 60_000), timeZone)}, it expires instead of going out late._`;

/** Who did what, in order. */
function historyText(newsletter: NewsletterRow, timeZone: string): string {
  const at = (date: Date | null) => (date ? ` (${formatInZone(date, timeZone)})` : '');
  const steps = [`Requested by <@${newsletter.requested_by}>${at(newsletter.created_at)}`];
  if (newsletter.decided_by) {
    steps.push(`${newsletter.status === 'rejected' ? 'rejected' : 'approved'} by <@${newsletter.decided_by}>${at(newsletter.decided_at)}`);
  }
  if (newsletter.started_at) steps.push(`started${at(newsletter.started_at)}`);
  if (newsletter.cancelled_by) steps.push(`cancelled by <@${newsletter.cancelled_by}>`);
  if (newsletter.finished_at) steps.push(`finished${at(newsletter.finished_at)}`);
  return steps.join(' · ');
}

function buttonsFor(newsletter: NewsletterRow): Button[] {
  const value = String(newsletter.id);
  const button = (actionId: string, text: string, style?: 'primary' | 'danger'): Button => ({
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text },
    value,
    ...(style ? { style } : {}),
  });
  const sendTest = button(ActionIds.newsletterSendTest, 'Send me a test');
  const cancel: Button = {
    ...button(ActionIds.newsletterCancel, 'Cancel'),
    confirm: {
      title: { type: 'plain_text', text: 'Cancel this newsletter?' },
      text: { type: 'plain_text', text: 'Nobody gets it who has not got it already. This cannot be undone.' },
      confirm: { type: 'plain_text', text: 'Cancel it' },
      deny: { type: 'plain_text', text: 'Keep it' },
      style: 'danger',
    },
  };
  switch (newsletter.status) {
    case 'awaiting_approval':
      return [
        sendTest,
        {
          ...button(ActionIds.newsletterApprove, 'Approve', 'primary'),
          confirm: {
            title: { type: 'plain_text', text: 'Approve this newsletter?' },
            text: { type: 'plain_text', text: clip(`It goes to about ${people(newsletter.planned_count)} in "${newsletter.content.plan.segmentName}" at the time shown.`, 300) },
            confirm: { type: 'plain_text', text: 'Approve' },
            deny: { type: 'plain_text', text: 'Not yet' },
          },
        },
        button(ActionIds.newsletterReject, 'Reject', 'danger'),
        cancel,
      ];
    case 'scheduled':
      return [sendTest, cancel];
    case 'sending':
      return [cancel];
    case 'paused':
      return [button(ActionIds.newsletterResume, 'Resume', 'primary'), cancel];
    default:
      return [];
  }
}
