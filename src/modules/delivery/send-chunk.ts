import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Services } from '../../services.ts';
import { emailSender, type EmailSender } from '../templates/email-sender.ts';
import { emailTracking } from '../tracking/email-tracking.ts';
import { unsubscribeHeaders } from '../unsubscribes/unsubscribe-headers.ts';
import { unsubscribeToken } from '../unsubscribes/unsubscribe-token.ts';
import { recentWorkspaceSettings, type WorkspaceSettings } from '../workspaces/settings.ts';
import type { EmailSourceKind, PreparedSource, SourceKind } from './email-source.ts';
import { SEND_TAG, TEAM_TAG } from './email-tags.ts';
import type { BatchOutcome, OutgoingEmail } from './email-transport.ts';
import { checkFrequencyCap, countClaimed, type CapCheck } from './frequency-cap.ts';
import {
  applyClaimDecisions,
  cancelQueuedRows,
  leadsForSending,
  lockChunkRows,
  recentSends,
  settleBatch,
  type BatchResult,
  type ChunkRow,
  type ClaimDecision,
  type SendingLead,
} from './ledger-queries.ts';

/** Unknown fates (5xx, timeouts) retried inside the job before the job itself fails and pg-boss retries it later. */
const TRANSIENT_ATTEMPTS = 3;
const TRANSIENT_BACKOFF_MS = [500, 2000];

export const ANSWER_LOST_NOTE = 'accepted by an earlier attempt whose answer was lost (Resend remembers the batch under its key)';

/**
 * Sends one chunk of the send ledger: the one road every email takes.
 *
 * 1. Claim (one transaction, rows locked): rows already `sending` are a batch an earlier attempt may have
 *    handed to Resend, so they are resent as they are, under their key. Otherwise every `queued` row is
 *    decided at send time: suppressed (the lead is no longer subscribed), capped or deferred (frequency
 *    cap, with the leads locked so two sends to one person see each other), or `sending` under a new
 *    Idempotency-Key.
 * 2. Render and make one batch call with that key (through the shared rate limiter).
 * 3. Settle: accepted rows get Resend's id, refused ones fail with the reason. Only then is a row done:
 *    a crash anywhere before leaves it `sending`, and the retry's identical call is answered from Resend's
 *    memory of the key instead of mailing anyone twice.
 */
export async function sendChunk(
  services: Services,
  chunk: { teamId: string; chunkId: number; sourceKind: SourceKind; sourceId: number },
  signal: AbortSignal,
): Promise<void> {
  const { sql } = services;
  const source = { source_kind: chunk.sourceKind, source_id: chunk.sourceId };
  const kind = services.emailSources.get(source.source_kind);
  if (!kind) throw new Error(`No email source is registered for "${source.source_kind}" (src/modules/delivery/email-sources.ts)`);
  const log = services.logger.child({ teamId: chunk.teamId, chunkId: chunk.chunkId, source: `${source.source_kind}:${source.source_id}` });

  for (;;) {
    const prepared = await kind.prepare(sql, chunk.teamId, source.source_id);
    if (prepared.action === 'hold') {
      log.debug({ reason: prepared.reason }, 'chunk held: its send is paused');
      return;
    }
    const settings = await recentWorkspaceSettings(sql, chunk.teamId);
    const batch = await claimBatch(services, chunk, prepared, settings);
    if (batch === 'done') return;
    if (batch.rows.length === 0) {
      await kind.chunkSettled(services, chunk.teamId, source.source_id, { kind: 'sent', accepted: 0, failed: 0, ...batch.skipped });
      return;
    }
    const result = await deliverBatch(services, kind, source.source_id, chunk, prepared, batch, signal);
    if (result === 'paused') return;
    log.debug({ accepted: result.accepted, failed: result.failed, ...batch.skipped, resumed: batch.resumed }, 'chunk batch settled');
    await kind.chunkSettled(services, chunk.teamId, source.source_id, { kind: 'sent', ...result, ...batch.skipped });
    // A fresh claim decided every queued row; only a resumed batch may leave queued rows behind it.
    if (!batch.resumed) return;
  }
}

interface ClaimedBatch {
  key: string;
  rows: ChunkRow[];
  leads: Map<number, SendingLead>;
  /** Rows an earlier attempt had claimed: their batch may already have reached Resend. */
  resumed: boolean;
  skipped: { suppressed: number; capped: number };
}

async function claimBatch(
  services: Services,
  chunk: { teamId: string; chunkId: number; sourceKind: SourceKind; sourceId: number },
  prepared: Exclude<PreparedSource, { action: 'hold' }>,
  settings: WorkspaceSettings,
): Promise<ClaimedBatch | 'done'> {
  const { teamId, chunkId } = chunk;
  const claimed = await services.sql.begin(async (tx) => {
    const rows = await lockChunkRows(tx, teamId, chunkId);
    if (rows.length === 0) return 'done' as const;
    if (rows.some((row) => row.source_kind !== chunk.sourceKind || row.source_id !== chunk.sourceId)) {
      throw new Error(`chunk ${chunkId} holds rows of another source than ${chunk.sourceKind} ${chunk.sourceId}: the job was enqueued wrongly`);
    }
    const inFlight = rows.filter((row) => row.state === 'sending');
    if (inFlight.length > 0) {
      const key = inFlight[0]!.batch_key!;
      return { key, rows: inFlight.filter((row) => row.batch_key === key), leads: undefined, resumed: true, skipped: { suppressed: 0, capped: 0 } };
    }
    if (prepared.action === 'cancel') {
      await cancelQueuedRows(tx, teamId, chunkId, prepared.reason);
      return 'done' as const;
    }

    const leadIds = rows.map((row) => row.lead_id);
    const now = services.clock.now();
    const [leads, recent] = await Promise.all([leadsForSending(tx, teamId, leadIds), recentSends(tx, teamId, leadIds, now)]);
    const leadById = new Map(leads.map((lead) => [lead.id, lead]));
    const recentByLead = new Map(recent.map((entry) => [entry.lead_id, entry]));
    const key = `nurture-${chunkId}-${randomUUID()}`;
    const decisions: ClaimDecision[] = [];
    const sending: ChunkRow[] = [];
    const skipped = { suppressed: 0, capped: 0 };
    for (const row of rows) {
      const lead = leadById.get(row.lead_id);
      const decide = (state: ClaimDecision['state'], reason: string | null, notBefore: Date | null = null) =>
        decisions.push({ id: row.id, state, reason, not_before: notBefore?.toISOString() ?? null, batch_key: state === 'sending' ? key : null });
      if (!lead || lead.status !== 'subscribed') {
        decide('suppressed', `lead is ${lead?.status ?? 'gone'}`);
        skipped.suppressed++;
        continue;
      }
      if (!prepared.template(row.source_step)) {
        decide('failed', 'its step no longer exists');
        continue;
      }
      // A rep's 1:1 email is never held by the cap ('count'); it is counted below like any other.
      const cap: CapCheck = prepared.capPolicy === 'count' ? { capped: false } : checkFrequencyCap(recentByLead.get(lead.id), settings);
      if (cap.capped) {
        if (prepared.capPolicy === 'defer') decide('deferred', cap.reason, cap.freesAt);
        else decide('capped', cap.reason);
        skipped.capped++;
        continue;
      }
      recentByLead.set(lead.id, countClaimed(recentByLead.get(lead.id), lead.id, now));
      decide('sending', null);
      sending.push({ ...row, sent_at: now });
    }
    await applyClaimDecisions(tx, teamId, decisions, now);
    return { key, rows: sending, leads: leadById as Map<number, SendingLead> | undefined, resumed: false, skipped };
  });
  if (claimed === 'done') return 'done';
  if (claimed.leads) return { ...claimed, leads: claimed.leads };
  // A resumed batch is rendered from the leads as they are now: unchanged, it is the very same call.
  const leads = await leadsForSending(services.sql, teamId, claimed.rows.map((row) => row.lead_id));
  return { ...claimed, leads: new Map(leads.map((lead) => [lead.id, lead])) };
}

async function deliverBatch(
  services: Services,
  kind: EmailSourceKind,
  sourceId: number,
  chunk: { teamId: string; chunkId: number },
  prepared: Exclude<PreparedSource, { action: 'hold' }>,
  batch: ClaimedBatch,
  signal: AbortSignal,
): Promise<{ accepted: number; failed: number } | 'paused'> {
  const { teamId } = chunk;
  const rows = batch.rows.filter((row) => batch.leads.has(row.lead_id));
  // One sender for the From line and the footer: without a name of its own, EMAIL_FROM's name is both.
  const sender = emailSender(services.config, { senderName: prepared.senderName });
  const emails = rows.map((row) => renderRow(services, teamId, prepared, sender, row, batch.leads.get(row.lead_id)!));
  let transientFailures = 0;
  for (;;) {
    const outcome: BatchOutcome = await services.email.sendBatch(emails, { teamId, idempotencyKey: batch.key, signal });
    switch (outcome.kind) {
      case 'accepted': {
        const results: BatchResult[] = rows.map((row, index) => {
          const item = outcome.items[index]!;
          return item.ok ? { id: row.id, provider_id: item.id, error: null, note: null } : { id: row.id, provider_id: null, error: item.error, note: null };
        });
        await settleBatch(services.sql, teamId, batch.key, results, services.clock.now());
        const failed = results.filter((result) => result.error !== null).length;
        return { accepted: results.length - failed, failed };
      }
      case 'rate-limited':
        if (outcome.quota) {
          await kind.pause(services, teamId, sourceId, `Resend's ${outcome.quota} sending quota is used up (${outcome.message}). Resume when it renews or the plan is raised.`);
          return 'paused';
        }
        // The limiter now holds every process back for retry-after; the next call waits for it.
        continue;
      case 'transient': {
        transientFailures++;
        if (outcome.reason === 'aborted' || transientFailures >= TRANSIENT_ATTEMPTS) {
          const reason = `Resend did not answer (${outcome.reason}${outcome.status ? ` ${outcome.status}` : ''}): ${outcome.message}`;
          if (outcome.reason !== 'aborted') await kind.chunkSettled(services, teamId, sourceId, { kind: 'failed', reason });
          // pg-boss retries the job later; the rows stay claimed under this key, so the retry is the same call.
          throw new Error(reason);
        }
        await sleep(TRANSIENT_BACKOFF_MS[transientFailures - 1] ?? 2000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      case 'permanent':
        if (outcome.code === 'invalid_idempotent_request' && batch.resumed) {
          // Resend holds this key for a different body: an earlier attempt's batch reached it (the leads
          // changed since). It went out once; our webhooks still match these rows by their tags.
          await settleBatch(services.sql, teamId, batch.key, rows.map((row) => ({ id: row.id, provider_id: null, error: null, note: ANSWER_LOST_NOTE })), services.clock.now());
          return { accepted: rows.length, failed: 0 };
        }
        await kind.pause(services, teamId, sourceId, `Resend refused the batch (${outcome.code}${outcome.status ? `, ${outcome.status}` : ''}): ${outcome.message}`);
        return 'paused';
    }
  }
}

function renderRow(
  services: Services,
  teamId: string,
  prepared: Exclude<PreparedSource, { action: 'hold' }>,
  sender: EmailSender,
  row: ChunkRow,
  lead: SendingLead,
): OutgoingEmail {
  const { config } = services;
  const links = unsubscribeHeaders(config, unsubscribeToken(config.trackingSecret, { teamId, leadId: lead.id, sendId: row.id }));
  const template = prepared.template(row.source_step)!;
  // Claimed rows carry their claim time; a resumed batch's is read back, so it renders the same email.
  const tracking = emailTracking(config, template, { teamId, sendId: row.id, leadId: lead.id, sentAt: row.sent_at ?? services.clock.now() });
  // A SendingLead is a MergeLead (the scope reads only merge fields: its status goes nowhere).
  const rendered = template.render(
    lead,
    {
      senderName: sender.name,
      postalAddress: prepared.postalAddress,
      unsubscribeUrl: links.url,
    },
    tracking,
  );
  return {
    from: sender.from,
    to: lead.email,
    ...(prepared.replyTo ? { replyTo: prepared.replyTo } : {}),
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers: links.headers,
    // Resend echoes tags in its webhooks: they find the row even when its id never reached us.
    tags: [
      { name: SEND_TAG, value: String(row.id) },
      { name: TEAM_TAG, value: teamId },
    ],
  };
}
