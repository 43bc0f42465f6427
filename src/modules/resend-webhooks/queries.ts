import type { Queryable } from '../../db/client.ts';
import type { LedgerState } from '../delivery/ledger-queries.ts';
import type { SourceKind } from '../delivery/email-source.ts';

/**
 * Stores a verified webhook under its svix-id, once. The workspace is the one its `nurture_team` tag names,
 * when that workspace exists. `done` stores it as already processed with that outcome (types Nurture does
 * not act on). `pending`: stored and not processed yet, by this call or an earlier delivery whose job
 * may never have been queued, so the caller queues it (again).
 */
export async function storeWebhook(
  sql: Queryable,
  webhook: { svixId: string; teamTag: string | undefined; eventType: string; payload: unknown; done?: string },
): Promise<{ inserted: boolean; pending: boolean }> {
  const [row] = await sql<{ inserted: boolean; pending: boolean | null }[]>`
    WITH inserted AS (
      INSERT INTO resend_webhooks (svix_id, team_id, event_type, payload, processed_at, outcome)
      VALUES (${webhook.svixId}, (SELECT team_id FROM workspaces WHERE team_id = ${webhook.teamTag ?? null}), ${webhook.eventType},
              ${sql.json(webhook.payload as never)}, ${webhook.done ? sql`now()` : null}, ${webhook.done ?? null})
      ON CONFLICT (svix_id) DO NOTHING
      RETURNING processed_at
    )
    SELECT EXISTS (SELECT 1 FROM inserted) AS inserted,
           coalesce((SELECT processed_at IS NULL FROM inserted), (SELECT processed_at IS NULL FROM resend_webhooks WHERE svix_id = ${webhook.svixId})) AS pending`;
  // pending null: a concurrent delivery of the same id stored it after this statement's snapshot; queueing again is harmless.
  return { inserted: row!.inserted, pending: row!.pending ?? true };
}

export interface StoredWebhook {
  svix_id: string;
  team_id: string | null;
  event_type: string;
  payload: unknown;
  received_at: Date;
  processed_at: Date | null;
}

/** The webhook, held until the transaction ends so two runs of its job take turns. */
export async function lockWebhook(sql: Queryable, svixId: string): Promise<StoredWebhook | undefined> {
  const [row] = await sql<StoredWebhook[]>`
    SELECT svix_id, team_id, event_type, payload, received_at, processed_at FROM resend_webhooks WHERE svix_id = ${svixId} FOR UPDATE`;
  return row;
}

export async function finishWebhook(sql: Queryable, svixId: string, outcome: string, teamId: string | null): Promise<void> {
  await sql`UPDATE resend_webhooks SET processed_at = now(), outcome = ${outcome}, team_id = coalesce(${teamId}, team_id) WHERE svix_id = ${svixId}`;
}

export interface WebhookSendRow {
  id: number;
  team_id: string;
  lead_id: number;
  source_kind: SourceKind;
  source_id: number;
  source_step: number;
  state: LedgerState;
  provider_id: string | null;
  opened_at: Date | null;
  clicked_at: Date | null;
}

const sendColumns = (sql: Queryable) => sql`id, team_id, lead_id, source_kind, source_id, source_step, state, provider_id, opened_at, clicked_at`;

/** The ledger row our `nurture_send` tag names, only within the workspace the `nurture_team` tag names, locked. */
export async function lockSendInTeam(sql: Queryable, teamId: string, sendId: number): Promise<WebhookSendRow | undefined> {
  const [row] = await sql<WebhookSendRow[]>`SELECT ${sendColumns(sql)} FROM email_sends WHERE team_id = ${teamId} AND id = ${sendId} FOR UPDATE`;
  return row;
}

export interface SendUpdate {
  state: LedgerState;
  deliveredAt: string | null;
  openedAt: string | null;
  clickedAt: string | null;
  softBounce: boolean;
}

export async function updateSendFromWebhook(sql: Queryable, teamId: string, sendId: number, update: SendUpdate): Promise<void> {
  await sql`
    UPDATE email_sends
    SET state = ${update.state},
        delivered_at = coalesce(delivered_at, ${update.deliveredAt}::timestamptz),
        opened_at = coalesce(opened_at, ${update.openedAt}::timestamptz),
        clicked_at = coalesce(clicked_at, ${update.clickedAt}::timestamptz),
        -- smallint: a mailbox that keeps deferring must not overflow it.
        soft_bounces = CASE WHEN ${update.softBounce} THEN least(soft_bounces + 1, 32767) ELSE soft_bounces END,
        updated_at = now()
    WHERE team_id = ${teamId} AND id = ${sendId}`;
}

/** A hard bounce: the address is dead. A complaint says more and stays. Returns whether the lead changed. */
export async function markLeadBounced(sql: Queryable, teamId: string, leadId: number): Promise<boolean> {
  const rows = await sql`
    UPDATE leads SET status = 'bounced', updated_at = now()
    WHERE team_id = ${teamId} AND id = ${leadId} AND status IN ('subscribed', 'unsubscribed')`;
  return rows.count > 0;
}

/** A spam complaint: never mail this person again, whatever their status was. Returns whether the lead changed. */
export async function markLeadComplained(sql: Queryable, teamId: string, leadId: number): Promise<boolean> {
  const rows = await sql`
    UPDATE leads SET status = 'complained', updated_at = now()
    WHERE team_id = ${teamId} AND id = ${leadId} AND status <> 'complained'`;
  return rows.count > 0;
}

/** Deletes up to `limit` webhooks received before the cutoff; small batches keep locks and WAL bursts short. */
export async function deleteWebhooksBefore(sql: Queryable, cutoff: Date, limit: number): Promise<number> {
  const rows = await sql`
    DELETE FROM resend_webhooks
    WHERE svix_id IN (SELECT svix_id FROM resend_webhooks WHERE received_at < ${cutoff} ORDER BY received_at LIMIT ${limit})`;
  return rows.count;
}
