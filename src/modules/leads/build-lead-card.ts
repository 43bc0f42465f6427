import type { KnownBlock } from '@slack/types';
import { clip, escapeMrkdwn } from '../../slack/mrkdwn.ts';
import type { RecentEvent } from '../events/queries.ts';
import type { LeadRow } from './queries.ts';

const STATUS_NOTES: Record<LeadRow['status'], string> = {
  subscribed: ':large_green_circle: subscribed',
  unsubscribed: ':no_entry_sign: unsubscribed — receives no marketing email',
  bounced: ':warning: bounced — the address does not accept mail',
  complained: ':warning: marked our email as spam — receives nothing',
};

/** The lead card: who, where in the journey, and what they did lately. Fits well within Slack's 50 blocks. */
export function buildLeadCard(lead: LeadRow, recent: readonly RecentEvent[], now = new Date()): KnownBlock[] {
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
  const attributes = Object.entries(lead.attributes);
  if (attributes.length > 0) {
    const lines = attributes.slice(0, 30).map(([key, value]) => `• ${escapeMrkdwn(key)}: ${escapeMrkdwn(String(value))}`);
    if (attributes.length > 30) lines.push(`…and ${attributes.length - 30} more`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Custom attributes*\n${lines.join('\n')}`, 3000) } });
  }
  blocks.push({ type: 'divider' });
  const activity =
    recent.length > 0
      ? recent.map((event) => `• ${describeEvent(event)} — ${relativeTime(event.occurred_at, now)}${event.verdict === 'machine' ? ' _(machine)_' : ''}`).join('\n')
      : '_No activity recorded yet._';
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Recent activity*\n${activity}`, 3000) } });
  return blocks;
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
