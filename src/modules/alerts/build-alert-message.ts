import type { KnownBlock } from '@slack/types';
import { ActionIds } from '../../slack/ids.ts';
import type { SlackMessage } from '../../slack/messages.ts';
import { clip, escapeMrkdwn } from '../../slack/mrkdwn.ts';
import { describeScore } from '../scoring/describe-score.ts';
import type { AlertLead, LeadAlert, TimelineEvent } from './queries.ts';

/** What an alert message shows: the alert, its lead and the lead's latest activity. */
export interface AlertView {
  alert: LeadAlert;
  lead: AlertLead;
  timeline: TimelineEvent[];
}

/** The snooze choices (minutes), offered in the alert's overflow menu. */
export const SNOOZE_CHOICES: ReadonlyArray<{ minutes: number; label: string }> = [
  { minutes: 60, label: 'Snooze 1 hour' },
  { minutes: 4 * 60, label: 'Snooze 4 hours' },
  { minutes: 24 * 60, label: 'Snooze 1 day' },
];

/** Alerts one roll-up message lists at most (two blocks each, under Slack's 50). */
export const ROLLUP_MAX_ALERTS = 20;

/** A time each reader sees in their own time zone ("Nov 27th 14:03"); the ISO text where Slack can't. */
export const slackTime = (at: Date) => `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} {time}|${at.toISOString()}>`;

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });

export function leadName(lead: AlertLead): string {
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ').trim();
  return name === '' ? lead.email : name;
}

/** "VP Marketing at Acme · decision stage · owned by @rep", and why no email can go to them, if none can. */
function whoLine(lead: AlertLead): string {
  const role = [lead.title, lead.company].filter(Boolean).map((part) => escapeMrkdwn(part!)).join(' at ');
  const owner = lead.ownerUserId ? `owned by <@${lead.ownerUserId}>` : 'no owner yet';
  const unreachable = lead.status === 'subscribed' ? '' : `:no_entry_sign: ${NOT_EMAILABLE[lead.status]}: no email from Nurture, not even 1:1`;
  return [role, `${lead.stage} stage`, owner, unreachable].filter((part) => part !== '').join(' · ');
}
const NOT_EMAILABLE: Record<Exclude<AlertLead['status'], 'subscribed'>, string> = { unsubscribed: 'unsubscribed', bounced: 'their address bounced', complained: 'marked our email as spam' };

const scoreText = (alert: LeadAlert) => `*Score ${Math.round(alert.score)}* (threshold ${Math.round(alert.threshold)})`;

/** "Claimed by @rep", "Not a fit (@rep)", "Snoozed by @rep until …": what happened to the alert, or undefined while it waits for someone. */
function statusLine(alert: LeadAlert): string | undefined {
  if (alert.status === 'claimed') return `:white_check_mark: Claimed by <@${alert.decidedBy}> at ${slackTime(alert.decidedAt!)}: their nurture emails are paused.`;
  if (alert.status === 'not_a_fit') return `:no_entry_sign: <@${alert.decidedBy}> marked this lead not a fit.`;
  if (alert.status === 'pending' && alert.snoozedUntil) return `:zzz: Snoozed by <@${alert.snoozedBy}> until ${slackTime(alert.snoozedUntil)}: it comes back then.`;
  if (alert.status === 'posted' && alert.snoozedBy) return `:alarm_clock: Back from <@${alert.snoozedBy}>'s snooze.`;
  return undefined;
}

/** One event of the timeline, in words: "14:03 visited /pricing". */
export function describeActivity(event: TimelineEvent): string {
  const props = event.properties;
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? clip(value.trim(), 60) : undefined);
  const what = (() => {
    switch (event.name) {
      case 'page_view':
        return `visited ${event.urlPath ?? 'a page'}`;
      case 'page_read': {
        const seconds = typeof props.seconds === 'number' ? props.seconds : 0;
        return `read ${event.urlPath ?? 'a page'} for ${seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`}`;
      }
      case 'email_opened':
        return `opened “${text(props.message) ?? 'an email'}”`;
      case 'email_clicked': {
        const link = text(props.link_text) ?? (typeof props.url === 'string' && URL.canParse(props.url) ? new URL(props.url).pathname : 'a link');
        return `clicked ${link}${text(props.message) ? ` in “${text(props.message)}”` : ''}`;
      }
      default:
        return event.name.replaceAll('_', ' ');
    }
  })();
  return `${slackTime(event.occurredAt)} ${escapeMrkdwn(what)}`;
}

/** The alert as its own message: who, score and why, a short timeline, and what a rep can do. */
export function buildAlertMessage(view: AlertView): SlackMessage {
  const { alert, lead } = view;
  const name = leadName(lead);
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `:fire: *Hot lead: ${escapeMrkdwn(name)}* <mailto:${lead.email}|${escapeMrkdwn(lead.email)}>\n${whoLine(lead)}` },
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`${scoreText(alert)}: ${escapeMrkdwn(describeScore(alert.reasons))}`, 2900) } },
  ];
  if (view.timeline.length > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(view.timeline.map((event) => describeActivity(event)).join('  ·  '), 2900) }] });
  }
  const status = statusLine(alert);
  if (status) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: status }] });
  const actions = alertActions(alert, lead);
  if (actions.length > 0) blocks.push({ type: 'actions', elements: actions as never });
  return { text: `Hot lead: ${name}${lead.company ? ` (${lead.company})` : ''}, score ${Math.round(alert.score)}`, blocks };
}

/**
 * Buttons while the alert waits for someone; once claimed, the claimer can still write 1:1. No Email 1:1
 * for a lead no email may go to (the line above says why).
 */
function alertActions(alert: LeadAlert, lead: AlertLead): object[] {
  const value = String(alert.id);
  const email = lead.status === 'subscribed' ? [{ type: 'button', action_id: ActionIds.alertEmail, text: plain('Email 1:1'), value }] : [];
  if (alert.status === 'claimed') return email;
  if (alert.status !== 'posted') return [];
  return [
    { type: 'button', action_id: ActionIds.alertClaim, style: 'primary', text: plain('Claim'), value },
    ...email,
    {
      type: 'overflow',
      action_id: ActionIds.alertSnooze,
      options: SNOOZE_CHOICES.map((choice) => ({ text: plain(choice.label), value: `${alert.id}:${choice.minutes}` })),
    },
    { type: 'button', action_id: ActionIds.alertNotAFit, text: plain('Not a fit'), value },
  ];
}

/**
 * Several alerts in one message, when a channel had its few messages this minute: a line per lead with
 * its own Claim button; a claimed lead's line says who has it.
 */
export function buildRollupMessage(views: readonly AlertView[]): SlackMessage {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `:fire: *${views.length} hot leads just now*: claim one to take it.` } }];
  for (const { alert, lead } of views.slice(0, ROLLUP_MAX_ALERTS)) {
    const line = `*${escapeMrkdwn(leadName(lead))}* <mailto:${lead.email}|${escapeMrkdwn(lead.email)}> · ${whoLine(lead)}\n${scoreText(alert)}: ${escapeMrkdwn(describeScore(alert.reasons, 2))}`;
    const status = statusLine(alert);
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(status ? `${line}\n${status}` : line, 2900) },
      ...(alert.status === 'posted' ? { accessory: { type: 'button', action_id: ActionIds.alertClaim, style: 'primary', text: plain('Claim'), value: String(alert.id) } } : {}),
    } as KnownBlock);
  }
  return { text: `${views.length} hot leads just now`, blocks };
}

/** The thread reply when nobody has claimed the alert(s) of a message in time. */
export function reminderText(names: readonly string[], minutes: number): string {
  const who = names.length === 1 ? escapeMrkdwn(names[0]!) : `${names.length} of these leads`;
  return `:alarm_clock: Nobody has claimed ${who} after ${minutes} minutes. Interest fades fast: claim it while they are still on the site.`;
}
