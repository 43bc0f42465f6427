import type { Queryable } from '../../db/client.ts';
import type { LedgerState } from '../delivery/ledger-queries.ts';
import type { LeadStatus } from '../leads/lead-input.ts';

/** A rep's 1:1 email as written in the modal (one_to_one_emails, migrations/0013_hot_lead_alerts.sql). */
export interface OneToOneEmail {
  id: number;
  teamId: string;
  leadId: number;
  alertId: number | null;
  senderUser: string;
  senderName: string;
  replyTo: string;
  subject: string;
  body: string;
  createdAt: Date;
}

export type NewOneToOneEmail = Omit<OneToOneEmail, 'id'>;

const COLUMNS = `id, team_id AS "teamId", lead_id AS "leadId", alert_id AS "alertId", sender_user AS "senderUser", sender_name AS "senderName",
  reply_to AS "replyTo", subject, body, created_at AS "createdAt"`;

export async function findOneToOne(sql: Queryable, teamId: string, id: number): Promise<OneToOneEmail | undefined> {
  const [row] = await sql<OneToOneEmail[]>`SELECT ${sql.unsafe(COLUMNS)} FROM one_to_one_emails WHERE team_id = ${teamId} AND id = ${id}`;
  return row;
}

export interface RecipientLead {
  id: number;
  email: string;
  first_name: string | null;
  last_name: string | null;
  status: LeadStatus;
}

/**
 * The lead, locked until the transaction ends: two submissions of one email to one person take turns, so
 * the second sees the first's row (findSameOneToOne). Undefined: the lead was erased.
 */
export async function lockRecipientLead(sql: Queryable, teamId: string, leadId: number): Promise<RecipientLead | undefined> {
  const [row] = await sql<RecipientLead[]>`
    SELECT id, email, first_name, last_name, status FROM leads WHERE team_id = ${teamId} AND id = ${leadId} FOR NO KEY UPDATE`;
  return row;
}

/** The same email from the same person to the same lead, written since `since`: a second submission of it. */
export async function findSameOneToOne(
  sql: Queryable,
  email: Pick<NewOneToOneEmail, 'teamId' | 'leadId' | 'senderUser' | 'subject' | 'body'>,
  since: Date,
): Promise<number | undefined> {
  const [row] = await sql<{ id: number }[]>`
    SELECT id FROM one_to_one_emails
    WHERE team_id = ${email.teamId} AND lead_id = ${email.leadId} AND sender_user = ${email.senderUser}
      AND subject = ${email.subject} AND body = ${email.body} AND created_at >= ${since}
    ORDER BY id DESC LIMIT 1`;
  return row?.id;
}

export async function insertOneToOne(sql: Queryable, email: NewOneToOneEmail): Promise<number> {
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO one_to_one_emails (team_id, lead_id, alert_id, sender_user, sender_name, reply_to, subject, body, created_at)
    VALUES (${email.teamId}, ${email.leadId}, ${email.alertId}, ${email.senderUser}, ${email.senderName}, ${email.replyTo},
            ${email.subject}, ${email.body}, ${email.createdAt})
    RETURNING id`;
  return row!.id;
}

/** Where a 1:1 email stands in the send ledger, with what its sender is told when it could not go. */
export interface OneToOneFate {
  senderUser: string;
  subject: string;
  leadEmail: string | null;
  leadName: string | null;
  state: LedgerState;
  reason: string | null;
}

export async function oneToOneFate(sql: Queryable, teamId: string, id: number): Promise<OneToOneFate | undefined> {
  const [row] = await sql<OneToOneFate[]>`
    SELECT o.sender_user AS "senderUser", o.subject, l.email AS "leadEmail",
           nullif(concat_ws(' ', l.first_name, l.last_name), '') AS "leadName", s.state, s.reason
    FROM one_to_one_emails o
    JOIN email_sends s ON s.team_id = o.team_id AND s.source_kind = 'one_to_one' AND s.source_id = o.id
    LEFT JOIN leads l ON l.team_id = o.team_id AND l.id = o.lead_id
    WHERE o.team_id = ${teamId} AND o.id = ${id}`;
  return row;
}

/**
 * The pipeline gave up on the email (quota used up, Resend refusing the call): its row will not be sent,
 * so it says so rather than stay claimed. Nothing is retried: a rep writes again if they still want to.
 */
export async function failOneToOneSend(sql: Queryable, teamId: string, id: number, reason: string): Promise<void> {
  await sql`
    UPDATE email_sends SET state = 'failed', reason = ${reason}, updated_at = now()
    WHERE team_id = ${teamId} AND source_kind = 'one_to_one' AND source_id = ${id} AND state IN ('queued', 'sending')`;
}

/** A 1:1 email on the lead card: who wrote it, what about, when, and what the lead did with it. */
export interface LeadOneToOne {
  senderUser: string;
  subject: string;
  createdAt: Date;
  /** Null while its ledger row is not written (never, outside a transaction in progress). */
  state: LedgerState | null;
  openedAt: Date | null;
  clickedAt: Date | null;
}

/** The lead's latest 1:1 emails, newest first. */
export async function leadOneToOnes(sql: Queryable, teamId: string, leadId: number, limit: number): Promise<LeadOneToOne[]> {
  return sql<LeadOneToOne[]>`
    SELECT o.sender_user AS "senderUser", o.subject, o.created_at AS "createdAt", s.state, s.opened_at AS "openedAt", s.clicked_at AS "clickedAt"
    FROM one_to_one_emails o
    LEFT JOIN email_sends s ON s.team_id = o.team_id AND s.source_kind = 'one_to_one' AND s.source_id = o.id
    WHERE o.team_id = ${teamId} AND o.lead_id = ${leadId}
    ORDER BY o.created_at DESC, o.id DESC
    LIMIT ${limit}`;
}
