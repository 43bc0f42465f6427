import type { KnownBlock } from '@slack/types';
import { clip, escapeMrkdwn } from '../../slack/mrkdwn.ts';
import type { RecentEvent } from '../events/queries.ts';
import { oneToOneFateWords } from '../one-to-one/describe-one-to-one.ts';
import type { LeadOneToOne } from '../one-to-one/queries.ts';
import { describeScore } from '../scoring/describe-score.ts';
import type { ScoreReason } from '../scoring/score-reason.ts';
import { leadRunLine } from '../sequences/build-sequence-messages.ts';
import type { LeadRun } from '../sequences/runs.ts';
import type { LeadRow } from './queries.ts';

/** Sequences listed on the card: the ones the lead is in first, then the latest that ended. */
const RUNS_SHOWN = 10;

/** The lead's sequences and where they are in each; next sends on `timeZone`'s clock (the lead's own). */
export interface CardJourney {
  runs: readonly LeadRun[];
  timeZone: string;
}

const STATUS_NOTES: Record<LeadRow['status'], string> = {
  subscribed: ':large_green_circle: subscribed',
  unsubscribed: ':no_entry_sign: unsubscribed — receives no marketing email',
  bounced: ':warning: bounced — the address does not accept mail',
  complained: ':warning: marked our email as spam — receives nothing',
};

/** The lead's score now (decayed), the workspace's alert threshold, and why (src/modules/scoring). */
export interface CardScore {
  value: number;
  threshold: number;
  reasons: readonly ScoreReason[];
}

/** The lead card: who, where in the journey, and what they did lately. Fits well within Slack's 50 blocks. */
export function buildLeadCard(
  lead: LeadRow,
  recent: readonly RecentEvent[],
  journey: CardJourney = { runs: [], timeZone: 'UTC' },
  now = new Date(),
  score?: CardScore,
  oneToOnes: readonly LeadOneToOne[] = [],
): KnownBlock[] {
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(' ') || lead.email;
  const field = (label: string, value: string | null | undefined) => ({ type: 'mrkdwn' as const, text: `*${label}*\n${value ? escapeMrkdwn(value) : '—'}` });
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(name, 150) } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `${escapeMrkdwn(lead.email)}\n${STATUS_NOTES[lead.status]}` },
    },
    {
      type: 'section',
      fields: [
        field('Company', lead.company),
        field('Title', lead.title),
        field('Industry', lead.industry),
        field('Buying stage', lead.stage),
        { type: 'mrkdwn', text: `*Owner*\n${lead.owner_user_id ? `<@${lead.owner_user_id}>` : 'nobody yet'}` },
        field('Source', lead.source),
        field('Time zone', lead.time_zone),
        field('Locale', lead.locale),
        field('Consent', lead.consent_at ? `${lead.consent_at.toISOString().slice(0, 10)}${lead.consent_source ? ` (${lead.consent_source})` : ''}` : null),
        field('Known since', lead.created_at.toISOString().slice(0, 10)),
      ],
    },
  ];
  if (score) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(scoreText(score), 3000) } });
  const attributes = Object.entries(lead.attributes);
  if (attributes.length > 0) {
    const lines = attributes.slice(0, 30).map(([key, value]) => `• ${escapeMrkdwn(key)}: ${escapeMrkdwn(String(value))}`);
    if (attributes.length > 30) lines.push(`…and ${attributes.length - 30} more`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Custom attributes*\n${lines.join('\n')}`, 3000) } });
  }
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Sequences*\n${sequenceLines(journey, now)}`, 3000) } });
  if (oneToOnes.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*1:1 emails*\n${oneToOneLines(oneToOnes, now)}`, 3000) } });
  blocks.push({ type: 'divider' });
  const activity =
    recent.length > 0
      ? recent.map((event) => `• ${describeEvent(event)} — ${relativeTime(event.occurred_at, now)}${event.verdict === 'machine' ? ' _(machine)_' : ''}`).join('\n')
      : '_No activity recorded yet._';
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Recent activity*\n${activity}`, 3000) } });
  return blocks;
}

function scoreText({ value, threshold, reasons }: CardScore): string {
  const rounded = Math.round(value);
  const heat = rounded >= threshold ? ':fire: hot' : `alerts at ${threshold}`;
  return `*Score:* ${rounded} (${heat})\n${reasons.length > 0 ? escapeMrkdwn(describeScore(reasons)) : '_No scored activity yet._'}`;
}

function sequenceLines({ runs, timeZone }: CardJourney, now: Date): string {
  if (runs.length === 0) return '_Not in any sequence._';
  const ordered = [...runs].sort((a, b) => Number(b.status === 'active') - Number(a.status === 'active') || b.enrolledAt.getTime() - a.enrolledAt.getTime());
  const lines = ordered.slice(0, RUNS_SHOWN).map((run) => `• ${leadRunLine(run, now, timeZone)}`);
  if (ordered.length > RUNS_SHOWN) lines.push(`…and ${ordered.length - RUNS_SHOWN} earlier`);
  return lines.join('\n');
}

function oneToOneLines(emails: readonly LeadOneToOne[], now: Date): string {
  return emails
    .map((email) => {
      const fate = oneToOneFateWords(email);
      return `• <@${email.senderUser}> “${escapeMrkdwn(clip(email.subject, 120))}” — ${relativeTime(email.createdAt, now)}${fate.length > 0 ? ` · ${fate.join(' · ')}` : ''}`;
    })
    .join('\n');
}

function describeEvent(event: RecentEvent): string {
  if (event.kind === 'web') return `visited ${escapeMrkdwn(event.url_path ?? String(event.properties.url ?? 'a page'))}`;
  const details = Object.entries(event.properties)
    .filter(([, value]) => typeof value !== 'object')
    .slice(0, 3)
    .map(([key, value]) => `${escapeMrkdwn(key)}=${escapeMrkdwn(String(value))}`);
  return `${escapeMrkdwn(event.name)}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

export function relativeTime(then: Date, now: Date): string {
  const minutes = Math.round((now.getTime() - then.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}
