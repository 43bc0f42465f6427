import type { Services } from '../../services.ts';
import { addRecipients, ANALYZE_AFTER_ROWS, countRows, leadIdsAudience } from '../delivery/ledger-queries.ts';
import { enqueueChunks } from '../delivery/send-chunk-queue.ts';
import { audienceLeadIds, findSegmentById } from '../segments/queries.ts';
import { withoutHeldLeads } from '../sequences/lead-nurture-hold.ts';
import { ruleContext } from '../segments/segments.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { enqueuePendingChunks } from './enqueue-pending-chunks.ts';
import { NURTURE_ACTOR, type NewsletterRow } from './newsletter.ts';
import { pausedDmText } from './newsletter-source.ts';
import { changeNewsletter, findNewsletter, newsletterState, overdueScheduled, type NewsletterChange } from './queries.ts';
import { requestCardUpdate } from './update-newsletter-card-queue.ts';

/** The sweep leaves a newsletter this long to its own job before starting it itself. */
export const OVERDUE_GRACE_MS = 2 * 60_000;
/** pg-boss may fetch a delayed job a moment before its time; earlier than this is a bug, never a send. */
const EARLY_TOLERANCE_MS = 1_000;

/**
 * The audience is computed again at send time. When it has grown well past what the approver saw (a
 * segment whose rule matches far more people by then, an import in between), the send waits for a person:
 * an off-target send wears a list out, and "approved" meant the plan on the card.
 */
export const AUDIENCE_GROWTH_ALLOWED = { share: 0.2, people: 50 };

export const audienceGrewText = (planned: number, now: number) =>
  `its audience grew from ${planned.toLocaleString('en')} people when it was approved to ${now.toLocaleString('en')} now. Check the segment, then Resume to send to all of them, or Cancel.`;

function audienceGrew(planned: number, recipients: number): string | undefined {
  return recipients > planned * (1 + AUDIENCE_GROWTH_ALLOWED.share) + AUDIENCE_GROWTH_ALLOWED.people ? audienceGrewText(planned, recipients) : undefined;
}

/**
 * Rows are written in slices, each committed and its chunks queued at once, so the first emails leave
 * while the rest are written (the start of a 100,000-recipient send took a second before anything left).
 * The first slice is small: it only has to keep every worker busy until the second is in.
 */
const FIRST_SLICE = 2_000;
const SLICE = 25_000;

/**
 * The newsletters.start job: at its time, an approved newsletter either expires (later than the
 * workspace's send_expiry_minutes: nothing goes out late) or starts. Starting is one transaction: status
 * `sending`, the audience computed now (suppressed leads and leads held for a rep's claim left out) and
 * the audit entry; when the audience grew well past the plan, every row is written and the newsletter
 * paused in it too. Otherwise its rows
 * are written in slices after the commit (see SLICE), and the recipient count is set last: until then the
 * newsletter cannot finish. Should the process die on the way, the job's retry finds it `sending` without
 * a count, writes what is missing (rows already there are left alone) and queues every pending chunk (a
 * duplicate job finds nothing to claim). `now` is the job's clock, given by tests.
 */
export async function startNewsletter(services: Services, job: { teamId: string; newsletterId: number }, now = services.clock.now()): Promise<void> {
  const { sql } = services;
  const { teamId, newsletterId } = job;
  const log = services.logger.child({ teamId, newsletterId, job: 'newsletters.start' });
  const newsletter = await findNewsletter(sql, teamId, newsletterId);
  if (!newsletter) return;
  if ((newsletter.status === 'sending' || newsletter.status === 'paused') && newsletter.recipient_count === null) {
    const segment = newsletter.segment_id === null ? undefined : await findSegmentById(sql, teamId, newsletter.segment_id);
    const leadIds = segment ? await withoutHeldLeads(sql, teamId, await audienceLeadIds(sql, segment.rule, ruleContext(teamId, now), { purpose: 'sending' }), now) : [];
    const recipients = await writeRecipients(services, newsletter, leadIds);
    log.info({ recipients }, 'newsletter start resumed: the rest of its recipients are written');
  }
  if (newsletter.status === 'sending') {
    const chunks = await enqueuePendingChunks(services, teamId, newsletterId);
    log.info({ chunks }, 'newsletter already started; its pending chunks are queued again');
    await requestCardUpdate(services, teamId, newsletterId);
    return;
  }
  if (newsletter.status !== 'scheduled') return;

  const lateMs = now.getTime() - newsletter.send_at.getTime();
  if (lateMs < -EARLY_TOLERANCE_MS) throw new Error(`newsletter ${newsletterId} is due at ${newsletter.send_at.toISOString()}, not yet`);
  const { sendExpiryMinutes } = await getWorkspaceSettings(sql, teamId);
  if (lateMs > sendExpiryMinutes * 60_000) {
    const late = Math.round(lateMs / 60_000);
    if (await stopWithoutSending(services, newsletter.team_id, newsletterId, { status: 'expired' }, 'newsletter.expired', { sendAt: newsletter.send_at.toISOString(), lateMinutes: late, expiryMinutes: sendExpiryMinutes })) {
      log.warn({ lateMinutes: late, expiryMinutes: sendExpiryMinutes }, 'newsletter expired: it would have started too late');
    }
    return;
  }

  const segment = newsletter.segment_id === null ? undefined : await findSegmentById(sql, teamId, newsletter.segment_id);
  if (!segment) {
    await stopWithoutSending(services, teamId, newsletterId, { status: 'cancelled', cancelled_by: NURTURE_ACTOR }, 'newsletter.cancelled', { reason: 'its segment no longer exists' });
    return;
  }

  const started = await sql.begin(async (tx) => {
    const row = await changeNewsletter(tx, teamId, newsletterId, ['scheduled'], { status: 'sending', started_at: now });
    if (!row) return undefined;
    const leadIds = await withoutHeldLeads(tx, teamId, await audienceLeadIds(tx, segment.rule, ruleContext(teamId, now), { purpose: 'sending' }), now);
    await recordAudit(tx, {
      teamId,
      actorUserId: NURTURE_ACTOR,
      action: 'newsletter.started',
      subject: String(newsletterId),
      details: { recipients: leadIds.length, lateSeconds: Math.max(0, Math.round(lateMs / 1000)) },
    });
    const grew = audienceGrew(newsletter.planned_count, leadIds.length);
    if (!grew) return { row, leadIds, grew };
    // Paused in the same transaction as the rows are written: no chunk is queued, Resume queues them.
    const { recipients } = await addRecipients(tx, ledgerSource(newsletter), leadIdsAudience(tx, leadIds));
    await changeNewsletter(tx, teamId, newsletterId, ['sending'], { status: 'paused', pause_reason: grew, recipient_count: recipients });
    await recordAudit(tx, { teamId, actorUserId: NURTURE_ACTOR, action: 'newsletter.paused', subject: String(newsletterId), details: { reason: grew } });
    return { row, leadIds, grew };
  });
  if (!started) return;
  if (started.grew) {
    log.warn({ planned: newsletter.planned_count, recipients: started.leadIds.length }, 'newsletter paused at its start: the audience grew past the approved plan');
    await services.slack.chat
      .postMessage({ channel: newsletter.requested_by, text: pausedDmText(newsletterId, newsletter.content.template.name, newsletter.channel_id, started.grew) })
      .catch((error) => log.error({ err: error }, 'could not tell the requester the newsletter paused'));
    await requestCardUpdate(services, teamId, newsletterId);
    return;
  }
  const recipients = await writeRecipients(services, started.row, started.leadIds);
  log.info({ recipients }, 'newsletter started');
  // Also finishes a newsletter nobody is left to receive.
  await requestCardUpdate(services, teamId, newsletterId);
}

const ledgerSource = (newsletter: NewsletterRow) => ({ teamId: newsletter.team_id, kind: 'newsletter' as const, id: newsletter.id });

/**
 * Writes the started newsletter's ledger rows in slices, queueing each slice's chunks as soon as it is
 * committed, then sets the recipient count (every row of the newsletter, including any an earlier attempt
 * wrote). Stops adding rows once the newsletter was cancelled.
 */
async function writeRecipients(services: Services, newsletter: NewsletterRow, leadIds: readonly number[]): Promise<number> {
  const { sql } = services;
  const source = ledgerSource(newsletter);
  for (let from = 0, slice = 0; from < leadIds.length; slice++) {
    const size = slice === 0 ? FIRST_SLICE : SLICE;
    const state = slice === 0 ? undefined : await newsletterState(sql, source.teamId, source.id);
    if (state && state.status !== 'sending' && state.status !== 'paused') break;
    // Statistics after the first slice and the last, and only for a send large enough to need them.
    const analyze = (slice === 0 || from + size >= leadIds.length) && leadIds.length >= ANALYZE_AFTER_ROWS;
    const { chunkIds } = await addRecipients(sql, source, leadIdsAudience(sql, leadIds.slice(from, from + size)), { analyze });
    await enqueueChunks(services, source, chunkIds);
    from += size;
  }
  const recipients = await countRows(sql, source.teamId, 'newsletter', source.id);
  await changeNewsletter(sql, source.teamId, source.id, ['sending', 'paused', 'cancelled'], { recipient_count: recipients });
  return recipients;
}

/** The overdue sweep: approved newsletters past their time whose own job never came (see the queue). */
export async function startDueNewsletters(services: Services, now = services.clock.now()): Promise<void> {
  const due = await overdueScheduled(services.sql, new Date(now.getTime() - OVERDUE_GRACE_MS));
  for (const { team_id: teamId, id: newsletterId } of due) {
    services.logger.warn({ teamId, newsletterId }, 'approved newsletter missed its start job; starting it from the sweep');
    await startNewsletter(services, { teamId, newsletterId }, now).catch((error) =>
      services.logger.error({ err: error, teamId, newsletterId }, 'could not start an overdue newsletter'),
    );
  }
}

/** Ends a scheduled newsletter that will never send (expired, its segment gone), audited; the card says so. */
async function stopWithoutSending(services: Services, teamId: string, newsletterId: number, change: NewsletterChange, action: string, details: Record<string, unknown>): Promise<boolean> {
  const stopped = await services.sql.begin(async (tx) => {
    const row = await changeNewsletter(tx, teamId, newsletterId, ['scheduled'], change);
    if (row) await recordAudit(tx, { teamId, actorUserId: NURTURE_ACTOR, action, subject: String(newsletterId), details });
    return row;
  });
  if (stopped) await requestCardUpdate(services, teamId, newsletterId);
  return stopped !== undefined;
}
