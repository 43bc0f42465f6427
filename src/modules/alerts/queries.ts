import type { Queryable } from '../../db/client.ts';
import type { LeadStatus } from '../leads/lead-input.ts';
import type { ScoreReason } from '../scoring/score-reason.ts';
import type { RuleContext } from '../segments/compile-rule.ts';
import { audienceWhere } from '../segments/queries.ts';
import type { Rule } from '../segments/rule.ts';
import { AlertChannelSettingsSchema, DEFAULT_ALERT_CHANNEL_SETTINGS, type AlertChannelSettings } from './alert-channel.ts';

export interface AlertChannel {
  channelId: string;
  settings: AlertChannelSettings;
  /** Who last set it up: told when alerts cannot be posted there. */
  updatedBy: string;
}

/** The channels set up for alerts. A stored document that no longer parses reads as the defaults. */
export async function alertChannels(sql: Queryable, teamId: string): Promise<AlertChannel[]> {
  const rows = await sql<ChannelRow[]>`
    SELECT channel_id, settings, updated_by FROM alert_channels WHERE team_id = ${teamId} ORDER BY channel_id`;
  return rows.map(toAlertChannel);
}

export async function findAlertChannel(sql: Queryable, teamId: string, channelId: string): Promise<AlertChannel | undefined> {
  const [row] = await sql<ChannelRow[]>`
    SELECT channel_id, settings, updated_by FROM alert_channels WHERE team_id = ${teamId} AND channel_id = ${channelId}`;
  return row && toAlertChannel(row);
}

type ChannelRow = { channel_id: string; settings: unknown; updated_by: string };
const toAlertChannel = (row: ChannelRow): AlertChannel => ({ channelId: row.channel_id, settings: parseSettings(row.settings), updatedBy: row.updated_by });

function parseSettings(document: unknown): AlertChannelSettings {
  const parsed = AlertChannelSettingsSchema.safeParse(document);
  return parsed.success ? parsed.data : DEFAULT_ALERT_CHANNEL_SETTINGS;
}

export async function saveAlertChannel(sql: Queryable, teamId: string, channelId: string, settings: AlertChannelSettings, userId: string): Promise<void> {
  await sql`
    INSERT INTO alert_channels (team_id, channel_id, settings, created_by, updated_by)
    VALUES (${teamId}, ${channelId}, ${sql.json(settings as never)}, ${userId}, ${userId})
    ON CONFLICT (team_id, channel_id) DO UPDATE SET settings = EXCLUDED.settings, updated_by = EXCLUDED.updated_by, updated_at = now()`;
}

/** Stops a channel's alerts: those still waiting (quiet hours, snoozes) go too, so nothing posts there later. */
export async function deleteAlertChannel(sql: Queryable, teamId: string, channelId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM alert_channels WHERE team_id = ${teamId} AND channel_id = ${channelId} RETURNING 1`;
  await sql`DELETE FROM lead_alerts WHERE team_id = ${teamId} AND channel_id = ${channelId} AND status = 'pending'`;
  return rows.length > 0;
}

export type AlertStatus = 'pending' | 'posted' | 'claimed' | 'not_a_fit';

export interface LeadAlert {
  id: number;
  teamId: string;
  leadId: number;
  channelId: string;
  score: number;
  threshold: number;
  reasons: ScoreReason[];
  status: AlertStatus;
  raisedAt: Date;
  postAfter: Date;
  postedAt: Date | null;
  /** The message showing it (its own or a roll-up's); null until posted. */
  messageTs: string | null;
  rolledUp: boolean;
  snoozedBy: string | null;
  snoozedUntil: Date | null;
  /** Who claimed it or found it not a fit, and when. */
  decidedBy: string | null;
  decidedAt: Date | null;
}

const ALERT_COLUMNS = `id, team_id AS "teamId", lead_id AS "leadId", channel_id AS "channelId", score, threshold, reasons, status,
  raised_at AS "raisedAt", post_after AS "postAfter", posted_at AS "postedAt", message_ts AS "messageTs", rolled_up AS "rolledUp",
  snoozed_by AS "snoozedBy", snoozed_until AS "snoozedUntil", decided_by AS "decidedBy", decided_at AS "decidedAt"`;

export async function findAlert(sql: Queryable, teamId: string, alertId: number): Promise<LeadAlert | undefined> {
  const [row] = await sql<LeadAlert[]>`SELECT ${sql.unsafe(ALERT_COLUMNS)} FROM lead_alerts WHERE team_id = ${teamId} AND id = ${alertId}`;
  return row;
}

/** What raising an alert needs to know about a lead whose score crossed a threshold. */
export interface AlertCandidate {
  leadId: number;
  stage: string;
  ownerUserId: string | null;
  /** The lead's latest alert in any channel: the cool-down. */
  lastAlertAt: Date | null;
}

export async function alertCandidates(sql: Queryable, teamId: string, leadIds: readonly number[]): Promise<AlertCandidate[]> {
  return sql<AlertCandidate[]>`
    SELECT l.id AS "leadId", l.stage, l.owner_user_id AS "ownerUserId",
      (SELECT max(a.raised_at) FROM lead_alerts a WHERE a.team_id = ${teamId} AND a.lead_id = l.id) AS "lastAlertAt"
    FROM leads l WHERE l.team_id = ${teamId} AND l.id = ANY(${leadIds as number[]})`;
}

export async function insertAlerts(
  sql: Queryable,
  teamId: string,
  alerts: ReadonlyArray<{ leadId: number; channelId: string; score: number; threshold: number; reasons: ScoreReason[]; raisedAt: Date; postAfter: Date }>,
): Promise<Array<{ id: number; channelId: string; postAfter: Date }>> {
  if (alerts.length === 0) return [];
  const rows = alerts.map((alert) => ({
    lead_id: alert.leadId,
    channel_id: alert.channelId,
    score: alert.score,
    threshold: alert.threshold,
    reasons: alert.reasons,
    raised_at: alert.raisedAt.toISOString(),
    post_after: alert.postAfter.toISOString(),
  }));
  return sql<Array<{ id: number; channelId: string; postAfter: Date }>>`
    INSERT INTO lead_alerts (team_id, lead_id, channel_id, score, threshold, reasons, raised_at, post_after)
    SELECT ${teamId}, x.lead_id, x.channel_id, x.score, x.threshold, x.reasons, x.raised_at, x.post_after
    FROM jsonb_to_recordset(${sql.json(rows as never)}::jsonb)
      AS x(lead_id bigint, channel_id text, score double precision, threshold double precision, reasons jsonb, raised_at timestamptz, post_after timestamptz)
    RETURNING id, channel_id AS "channelId", post_after AS "postAfter"`;
}

/** Which of these leads a segment's rule selects now. */
export async function leadsInAudience(sql: Queryable, rule: Rule, context: RuleContext, leadIds: readonly number[]): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    SELECT l.id FROM leads l WHERE l.id = ANY(${leadIds as number[]}) AND ${audienceWhere(sql, rule, context, { purpose: 'reporting' })}`;
  return rows.map((row) => row.id);
}

export interface AlertLead {
  id: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  title: string | null;
  stage: string;
  ownerUserId: string | null;
  /** Not `subscribed`: Nurture sends the lead no email at all, 1:1 included. */
  status: LeadStatus;
}

export async function alertLeads(sql: Queryable, teamId: string, leadIds: readonly number[]): Promise<AlertLead[]> {
  return sql<AlertLead[]>`
    SELECT id, email, first_name AS "firstName", last_name AS "lastName", company, title, stage, owner_user_id AS "ownerUserId", status
    FROM leads WHERE team_id = ${teamId} AND id = ANY(${leadIds as number[]})`;
}

export interface TimelineEvent {
  leadId: number;
  name: string;
  urlPath: string | null;
  properties: Record<string, unknown>;
  occurredAt: Date;
}

/** Each lead's latest people's events since `since`, newest first, at most `perLead` each. */
export async function recentLeadActivity(sql: Queryable, teamId: string, leadIds: readonly number[], since: Date, perLead: number): Promise<TimelineEvent[]> {
  return sql<TimelineEvent[]>`
    SELECT e."leadId", e.name, e."urlPath", e.properties, e."occurredAt"
    FROM unnest(${leadIds as number[]}::bigint[]) AS x(lead_id)
    CROSS JOIN LATERAL (
      SELECT lead_id AS "leadId", name, url_path AS "urlPath", properties, occurred_at AS "occurredAt" FROM events
      WHERE lead_id = x.lead_id AND team_id = ${teamId} AND occurred_at >= ${since} AND verdict IS DISTINCT FROM 'machine'
      ORDER BY occurred_at DESC LIMIT ${perLead}
    ) e`;
}

/** One poster per channel at a time (any process): the rate limit counts what the others posted. */
export async function lockChannelPosting(sql: Queryable, teamId: string, channelId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`alerts:${teamId}:${channelId}`}, 0))`;
}

/** The channel's alerts waiting and due, oldest first, locked for the poster. */
export async function duePendingAlerts(sql: Queryable, teamId: string, channelId: string, now: Date, limit: number): Promise<LeadAlert[]> {
  return sql<LeadAlert[]>`
    SELECT ${sql.unsafe(ALERT_COLUMNS)} FROM lead_alerts
    WHERE team_id = ${teamId} AND channel_id = ${channelId} AND status = 'pending' AND post_after <= ${now}
    ORDER BY raised_at, id LIMIT ${limit} FOR UPDATE`;
}

/** The messages posted to the channel in the last minute of real time, newest first, with their age. */
export async function recentChannelPosts(sql: Queryable, teamId: string, channelId: string): Promise<Array<{ messageTs: string; ageMs: number }>> {
  return sql<Array<{ messageTs: string; ageMs: number }>>`
    SELECT message_ts AS "messageTs", (extract(epoch FROM clock_timestamp() - max(slack_posted_at)) * 1000)::float8 AS "ageMs"
    FROM lead_alerts
    WHERE team_id = ${teamId} AND channel_id = ${channelId} AND slack_posted_at > clock_timestamp() - interval '60 seconds'
    GROUP BY message_ts ORDER BY 2`;
}

export async function markAlertsPosted(sql: Queryable, teamId: string, alertIds: readonly number[], post: { messageTs: string; postedAt: Date; rolledUp: boolean }): Promise<void> {
  await sql`
    UPDATE lead_alerts SET status = 'posted', message_ts = ${post.messageTs}, rolled_up = ${post.rolledUp},
      posted_at = ${post.postedAt}, slack_posted_at = clock_timestamp(), reminded_at = NULL
    WHERE team_id = ${teamId} AND id = ANY(${alertIds as number[]})`;
}

/** Channels with alerts due to be posted (quiet hours over, snoozes ended, a poster that died). */
export async function channelsWithDueAlerts(sql: Queryable, now: Date): Promise<Array<{ teamId: string; channelId: string }>> {
  return sql<Array<{ teamId: string; channelId: string }>>`
    SELECT DISTINCT team_id AS "teamId", channel_id AS "channelId" FROM lead_alerts WHERE status = 'pending' AND post_after <= ${now}`;
}

/** Posted messages whose alerts nobody has acted on within their channel's reminder time. */
export async function dueReminders(sql: Queryable, now: Date): Promise<Array<{ teamId: string; channelId: string; messageTs: string; minutes: number; alertIds: number[]; leadIds: number[] }>> {
  return sql`
    SELECT a.team_id AS "teamId", a.channel_id AS "channelId", a.message_ts AS "messageTs", (c.settings->>'remindAfterMinutes')::int AS minutes,
      array_agg(a.id ORDER BY a.id) AS "alertIds", array_agg(a.lead_id ORDER BY a.id) AS "leadIds"
    FROM lead_alerts a JOIN alert_channels c ON c.team_id = a.team_id AND c.channel_id = a.channel_id
    WHERE a.status = 'posted' AND a.reminded_at IS NULL AND jsonb_typeof(c.settings->'remindAfterMinutes') = 'number'
      AND a.posted_at + make_interval(mins => (c.settings->>'remindAfterMinutes')::int) <= ${now}
    GROUP BY 1, 2, 3, 4`;
}

export async function markReminded(sql: Queryable, teamId: string, alertIds: readonly number[], now: Date): Promise<void> {
  await sql`UPDATE lead_alerts SET reminded_at = ${now} WHERE team_id = ${teamId} AND id = ANY(${alertIds as number[]})`;
}

/** Every alert a message shows (one, or a roll-up's), for redrawing it. */
export async function alertsOfMessage(sql: Queryable, teamId: string, channelId: string, messageTs: string): Promise<LeadAlert[]> {
  return sql<LeadAlert[]>`
    SELECT ${sql.unsafe(ALERT_COLUMNS)} FROM lead_alerts WHERE team_id = ${teamId} AND channel_id = ${channelId} AND message_ts = ${messageTs} ORDER BY id`;
}

/**
 * A rep decides the alert (claims it, or finds the lead not a fit): only while it is posted, so of two
 * reps clicking at once the first wins.
 */
export async function decideAlertRow(
  sql: Queryable,
  decision: { teamId: string; alertId: number; userId: string; now: Date; status: 'claimed' | 'not_a_fit' },
): Promise<LeadAlert | undefined> {
  const [row] = await sql<LeadAlert[]>`
    UPDATE lead_alerts SET status = ${decision.status}, decided_by = ${decision.userId}, decided_at = ${decision.now}
    WHERE team_id = ${decision.teamId} AND id = ${decision.alertId} AND status = 'posted'
    RETURNING ${sql.unsafe(ALERT_COLUMNS)}`;
  return row;
}

export async function setLeadOwner(sql: Queryable, teamId: string, leadId: number, userId: string): Promise<void> {
  await sql`UPDATE leads SET owner_user_id = ${userId}, updated_at = now() WHERE team_id = ${teamId} AND id = ${leadId}`;
}

/** Back to waiting until `until`; the poster posts it again then, as a new message. */
export async function snoozeAlertRow(sql: Queryable, teamId: string, alertId: number, userId: string, until: Date): Promise<LeadAlert | undefined> {
  const [row] = await sql<LeadAlert[]>`
    UPDATE lead_alerts SET status = 'pending', post_after = ${until}, snoozed_by = ${userId}, snoozed_until = ${until}
    WHERE team_id = ${teamId} AND id = ${alertId} AND status = 'posted'
    RETURNING ${sql.unsafe(ALERT_COLUMNS)}`;
  return row;
}

/** Alerts raised, claimed and found not a fit in the channel since `since`: how precise its alerts are. */
export async function alertOutcomes(sql: Queryable, teamId: string, since: Date): Promise<Array<{ channelId: string; raised: number; claimed: number; notAFit: number; medianClaimMinutes: number | null }>> {
  return sql`
    SELECT channel_id AS "channelId", count(*)::int AS raised,
      count(*) FILTER (WHERE status = 'claimed')::int AS claimed, count(*) FILTER (WHERE status = 'not_a_fit')::int AS "notAFit",
      (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - posted_at) / 60) FILTER (WHERE status = 'claimed'))::float8 AS "medianClaimMinutes"
    FROM lead_alerts WHERE team_id = ${teamId} AND raised_at >= ${since} GROUP BY channel_id`;
}
