import type { Queryable } from '../../db/client.ts';
import type { RuleContext } from '../segments/compile-rule.ts';
import { audienceWhere } from '../segments/queries.ts';
import type { Rule } from '../segments/rule.ts';
import { ACTIVE_STATUSES, type NewsletterContent, type NewsletterRow, type NewsletterStatus } from './newsletter.ts';

export async function insertNewsletter(
  sql: Queryable,
  newsletter: { teamId: string; templateId: number; segmentId: number; content: NewsletterContent; sendAt: Date; requestedBy: string; channelId: string; plannedCount: number },
): Promise<NewsletterRow> {
  const [row] = await sql<NewsletterRow[]>`
    INSERT INTO newsletters (team_id, template_id, segment_id, content, send_at, requested_by, channel_id, planned_count)
    VALUES (${newsletter.teamId}, ${newsletter.templateId}, ${newsletter.segmentId}, ${sql.json(newsletter.content as never)}, ${newsletter.sendAt},
            ${newsletter.requestedBy}, ${newsletter.channelId}, ${newsletter.plannedCount})
    RETURNING *`;
  return row!;
}

export async function setCardMessage(sql: Queryable, teamId: string, id: number, messageTs: string): Promise<void> {
  await sql`UPDATE newsletters SET message_ts = ${messageTs}, updated_at = now() WHERE team_id = ${teamId} AND id = ${id}`;
}

/** A plan whose card could not be posted never existed for anyone: it goes. */
export async function deleteUnpostedNewsletter(sql: Queryable, teamId: string, id: number): Promise<void> {
  await sql`DELETE FROM newsletters WHERE team_id = ${teamId} AND id = ${id} AND message_ts IS NULL AND status = 'awaiting_approval'`;
}

export async function findNewsletter(sql: Queryable, teamId: string, id: number): Promise<NewsletterRow | undefined> {
  const [row] = await sql<NewsletterRow[]>`SELECT * FROM newsletters WHERE team_id = ${teamId} AND id = ${id}`;
  return row;
}

/** What a chunk job asks before each batch: whether to send, hold or drop (a small read, per chunk). */
export async function newsletterState(sql: Queryable, teamId: string, id: number): Promise<Pick<NewsletterRow, 'status' | 'pause_reason'> | undefined> {
  const [row] = await sql<Pick<NewsletterRow, 'status' | 'pause_reason'>[]>`SELECT status, pause_reason FROM newsletters WHERE team_id = ${teamId} AND id = ${id}`;
  return row;
}

export async function newsletterContent(sql: Queryable, teamId: string, id: number): Promise<NewsletterContent | undefined> {
  const [row] = await sql<Pick<NewsletterRow, 'content'>[]>`SELECT content FROM newsletters WHERE team_id = ${teamId} AND id = ${id}`;
  return row?.content;
}

/** The template's name, for labelling events about the newsletter's emails. */
export async function newsletterTemplateName(sql: Queryable, teamId: string, id: number): Promise<string | undefined> {
  const [row] = await sql<{ name: string }[]>`SELECT content #>> '{template,name}' AS name FROM newsletters WHERE team_id = ${teamId} AND id = ${id}`;
  return row?.name;
}

export type NewsletterChange = Partial<
  Pick<NewsletterRow, 'status' | 'decided_by' | 'decided_at' | 'started_at' | 'finished_at' | 'cancelled_by' | 'pause_reason' | 'failure_streak' | 'recipient_count'>
>;

/**
 * Moves a newsletter on only from the statuses given, in one statement: of two people clicking at once,
 * or two jobs finishing at once, exactly one gets the row back.
 */
export async function changeNewsletter(
  sql: Queryable,
  teamId: string,
  id: number,
  from: readonly NewsletterStatus[],
  change: NewsletterChange,
): Promise<NewsletterRow | undefined> {
  const [row] = await sql<NewsletterRow[]>`
    UPDATE newsletters SET ${sql(change as Record<string, unknown>)}, updated_at = now()
    WHERE team_id = ${teamId} AND id = ${id} AND status = ANY(${from as NewsletterStatus[]}::text[])
    RETURNING *`;
  return row;
}

/**
 * Marks a sending newsletter sent once none of its ledger rows is queued or being sent; exactly one of
 * concurrent callers gets the row back (the row lock, then `status = 'sending'` checked again). It reads
 * the source's rows, so it runs with the throttled card update (every ~2 s), not once per chunk: near the
 * end of a 100,000-recipient send that would walk most of the ledger a thousand times.
 */
export async function finishIfDone(sql: Queryable, teamId: string, id: number): Promise<NewsletterRow | undefined> {
  const [row] = await sql<NewsletterRow[]>`
    UPDATE newsletters n SET status = 'sent', finished_at = now(), updated_at = now()
    WHERE n.team_id = ${teamId} AND n.id = ${id} AND n.status = 'sending'
      -- No count yet: its rows are still being written.
      AND n.recipient_count IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM email_sends s
        WHERE s.source_kind = 'newsletter' AND s.source_id = n.id AND s.team_id = n.team_id AND s.state IN ('queued', 'sending'))
    RETURNING *`;
  return row;
}

/** A chunk that failed lengthens the streak, any success ends it; returns the streak now. */
export async function recordChunkResult(sql: Queryable, teamId: string, id: number, failed: boolean): Promise<number | undefined> {
  const [row] = await sql<{ failure_streak: number }[]>`
    UPDATE newsletters SET failure_streak = ${failed ? sql`failure_streak + 1` : 0}, updated_at = now()
    WHERE team_id = ${teamId} AND id = ${id} AND (${failed} OR failure_streak <> 0)
    RETURNING failure_streak`;
  return row?.failure_streak ?? (failed ? undefined : 0);
}

export interface NewsletterListRow {
  id: number;
  status: NewsletterStatus;
  send_at: Date;
  requested_by: string;
  template_name: string;
  segment_name: string;
  planned_count: number;
  recipient_count: number | null;
  sent: number;
  failed: number;
}

/** The workspace's newest newsletters with what their ledger says so far. */
export async function listRecentNewsletters(sql: Queryable, teamId: string, limit: number): Promise<NewsletterListRow[]> {
  return sql<NewsletterListRow[]>`
    SELECT n.id, n.status, n.send_at, n.requested_by, n.content #>> '{template,name}' AS template_name,
           n.content #>> '{plan,segmentName}' AS segment_name, n.planned_count, n.recipient_count,
           coalesce(c.sent, 0) AS sent, coalesce(c.failed, 0) AS failed
    FROM newsletters n
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE s.state IN ${sql(SENT_STATES)})::int AS sent, count(*) FILTER (WHERE s.state = 'failed')::int AS failed
      FROM email_sends s WHERE s.team_id = n.team_id AND s.source_kind = 'newsletter' AND s.source_id = n.id
    ) c ON n.recipient_count IS NOT NULL
    WHERE n.team_id = ${teamId}
    ORDER BY n.created_at DESC, n.id DESC
    LIMIT ${limit}`;
}

/** Ledger states of an email Resend accepted (and what its webhooks said about it since). */
export const SENT_STATES = ['accepted', 'delivered', 'delivery_delayed', 'bounced', 'complained'] as const;

/** The newest newsletter sent to the segment, for "the change since the last send". */
export async function lastSentToSegment(sql: Queryable, teamId: string, segmentId: number): Promise<{ started_at: Date; recipient_count: number } | undefined> {
  const [row] = await sql<{ started_at: Date; recipient_count: number }[]>`
    SELECT started_at, recipient_count FROM newsletters
    WHERE team_id = ${teamId} AND segment_id = ${segmentId} AND status = 'sent' AND recipient_count IS NOT NULL
    ORDER BY started_at DESC LIMIT 1`;
  return row;
}

export interface AudienceGroup {
  subscribed: boolean;
  /** Subscribed, and held for a rep's claim (lead_nurture_holds) until after `now`. */
  held: boolean;
  capped: boolean;
  stage: string;
  /** Industries compare case-insensitively ("Manufacturing" = "manufacturing"); null when unknown. */
  industry_key: string | null;
  industry: string | null;
  count: number;
}

/**
 * The segment's members counted by what the plan shows: subscribed or suppressed, held for a rep's claim
 * or not, held back by the frequency cap right now or not, stage and industry. The cap counts as delivery does (recentSends in
 * src/modules/delivery/ledger-queries.ts): emails handed to Resend in the last 24 hours and 7 days, failed
 * ones aside; this is the same rule over the whole audience at once.
 */
export async function countAudienceGroups(
  sql: Queryable,
  rule: Rule,
  context: RuleContext,
  caps: { perDay: number; perWeek: number },
): Promise<AudienceGroup[]> {
  const now = context.now;
  return sql<AudienceGroup[]>`
    SELECT m.subscribed, m.held, m.capped, m.stage, m.industry_key, min(m.industry) AS industry, count(*)::int AS count
    FROM (
      SELECT l.status = 'subscribed' AS subscribed, l.stage, lower(btrim(l.industry)) AS industry_key, btrim(l.industry) AS industry,
             l.status = 'subscribed' AND h.lead_id IS NOT NULL AS held,
             l.status = 'subscribed' AND coalesce(recent.last_day >= ${caps.perDay} OR recent.last_week >= ${caps.perWeek}, false) AS capped
      FROM leads l
      LEFT JOIN lead_nurture_holds h ON h.lead_id = l.id AND h.team_id = l.team_id AND h.held_until > ${now}
      LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE s.sent_at > ${now}::timestamptz - interval '1 day') AS last_day, count(*) AS last_week
        FROM email_sends s
        WHERE s.lead_id = l.id AND s.team_id = l.team_id AND s.sent_at > ${now}::timestamptz - interval '7 days' AND s.state <> 'failed'
      ) recent ON l.status = 'subscribed'
      WHERE ${audienceWhere(sql, rule, context, { purpose: 'reporting' })}
    ) m
    GROUP BY m.subscribed, m.held, m.capped, m.stage, m.industry_key`;
}

/** Newsletters that depend on the segment, for `segment show` and `segment delete`: the newest `limit`, unfinished ones first. */
export async function newslettersOfSegment(sql: Queryable, teamId: string, segmentId: number, limit: number): Promise<Array<{ id: number; status: NewsletterStatus; template_name: string }>> {
  return sql<Array<{ id: number; status: NewsletterStatus; template_name: string }>>`
    SELECT id, status, content #>> '{template,name}' AS template_name FROM newsletters
    WHERE team_id = ${teamId} AND segment_id = ${segmentId}
    ORDER BY status = ANY(${ACTIVE_STATUSES as unknown as string[]}::text[]) DESC, created_at DESC, id DESC
    LIMIT ${limit}`;
}

/** Approved newsletters whose time passed a while ago and that never started (their job was lost). */
export async function overdueScheduled(sql: Queryable, olderThan: Date): Promise<Array<{ team_id: string; id: number }>> {
  return sql<Array<{ team_id: string; id: number }>>`
    SELECT team_id, id FROM newsletters WHERE status = 'scheduled' AND send_at < ${olderThan} ORDER BY send_at LIMIT 100`;
}
