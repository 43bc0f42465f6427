import { PermissionDeniedError, UsageError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { requireRole } from '../roles/roles.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { enqueuePendingChunks } from './enqueue-pending-chunks.ts';
import { ACTIVE_STATUSES, type NewsletterRow, type NewsletterStatus } from './newsletter.ts';
import { changeNewsletter, findNewsletter, type NewsletterChange } from './queries.ts';
import { startNewsletterQueue } from './start-newsletter-queue.ts';

export const NEWSLETTER_GONE_TEXT = 'That newsletter no longer exists. `/nurture newsletter list` shows the recent ones.';
export const OWN_APPROVAL_TEXT = 'You asked for this send, so someone else approves it: another marketer or an admin.';
export const ownApprovalAboveThresholdText = (threshold: number) =>
  `You asked for this send, so someone else approves it: another marketer or an admin. (You could approve it yourself below ${threshold.toLocaleString('en-US')} recipients.)`;

const DONE_WORDS: Record<NewsletterStatus, string> = {
  awaiting_approval: 'is waiting for approval',
  rejected: 'was rejected',
  scheduled: 'is already approved',
  sending: 'is already sending',
  paused: 'is paused',
  sent: 'was sent',
  cancelled: 'was cancelled',
  expired: 'expired',
};
export const alreadyText = (newsletter: Pick<NewsletterRow, 'id' | 'status'>) => `Newsletter #${newsletter.id} ${DONE_WORDS[newsletter.status]}, so there is nothing to do.`;

interface Decision {
  teamId: string;
  userId: string;
  newsletterId: number;
}

/**
 * A second person (marketer or admin) approves; the requester only below the workspace's self-approval
 * threshold. Approved, it waits for its time in the newsletters.start queue.
 */
export async function approveNewsletter(services: Services, { teamId, userId, newsletterId }: Decision): Promise<NewsletterRow> {
  const newsletter = await newsletterIn(services, teamId, newsletterId, ['awaiting_approval']);
  await requireRole(services, teamId, userId, ['marketer'], 'Approving a newsletter');
  const selfApproved = userId === newsletter.requested_by;
  if (selfApproved) {
    const { selfApprovalBelow } = await getWorkspaceSettings(services.sql, teamId);
    if (selfApprovalBelow === null) throw new PermissionDeniedError(OWN_APPROVAL_TEXT);
    if (newsletter.planned_count >= selfApprovalBelow) throw new PermissionDeniedError(ownApprovalAboveThresholdText(selfApprovalBelow));
  }
  const approved = await transition(services, newsletter, userId, 'newsletter.approved', ['awaiting_approval'], { status: 'scheduled', decided_by: userId, decided_at: services.clock.now() }, {
    planned: newsletter.planned_count,
    sendAt: newsletter.send_at.toISOString(),
    selfApproved,
  });
  // After the commit: a job that ran before it would find the newsletter not yet approved and do nothing.
  // Should this fail, the overdue sweep of the same queue starts it (or expires it) a little later.
  await services.enqueue(startNewsletterQueue, { teamId, newsletterId }, { startAfter: approved.send_at });
  return approved;
}

/** Rejected by someone who may approve it; the requester rejecting their own plan withdraws it (cancel). */
export async function rejectNewsletter(services: Services, decision: Decision): Promise<NewsletterRow> {
  const { teamId, userId, newsletterId } = decision;
  const newsletter = await newsletterIn(services, teamId, newsletterId, ['awaiting_approval']);
  if (userId === newsletter.requested_by) return cancelNewsletter(services, decision);
  await requireRole(services, teamId, userId, ['marketer'], 'Rejecting a newsletter');
  return transition(services, newsletter, userId, 'newsletter.rejected', ['awaiting_approval'], { status: 'rejected', decided_by: userId, decided_at: services.clock.now() });
}

/**
 * Stops a newsletter before or while it sends: the requester, a marketer or an admin. Chunk jobs still to
 * run find it cancelled and mark their unsent rows so. A paused send has no jobs left: its chunks are
 * queued again only to be cancelled that way.
 */
export async function cancelNewsletter(services: Services, { teamId, userId, newsletterId }: Decision): Promise<NewsletterRow> {
  const newsletter = await newsletterIn(services, teamId, newsletterId, ACTIVE_STATUSES);
  if (userId !== newsletter.requested_by) await requireRole(services, teamId, userId, ['marketer'], 'Cancelling a newsletter');
  const cancelled = await transition(services, newsletter, userId, 'newsletter.cancelled', ACTIVE_STATUSES, { status: 'cancelled', cancelled_by: userId }, { was: newsletter.status });
  if (newsletter.status === 'paused') await enqueuePendingChunks(services, teamId, newsletterId);
  return cancelled;
}

/** A paused send goes on where it stopped (marketer or admin). */
export async function resumeNewsletter(services: Services, { teamId, userId, newsletterId }: Decision): Promise<NewsletterRow> {
  const newsletter = await newsletterIn(services, teamId, newsletterId, ['paused']);
  await requireRole(services, teamId, userId, ['marketer'], 'Resuming a newsletter');
  const resumed = await transition(services, newsletter, userId, 'newsletter.resumed', ['paused'], { status: 'sending', pause_reason: null, failure_streak: 0 }, {
    pauseReason: newsletter.pause_reason,
  });
  await enqueuePendingChunks(services, teamId, newsletterId);
  return resumed;
}

async function newsletterIn(services: Services, teamId: string, newsletterId: number, statuses: readonly NewsletterStatus[]): Promise<NewsletterRow> {
  const newsletter = await findNewsletter(services.sql, teamId, newsletterId);
  if (!newsletter) throw new UsageError(NEWSLETTER_GONE_TEXT);
  if (!statuses.includes(newsletter.status)) throw new UsageError(alreadyText(newsletter));
  return newsletter;
}

/** The status change and its audit entry, together; someone else's change in between wins and is reported. */
async function transition(
  services: Services,
  newsletter: NewsletterRow,
  userId: string,
  action: string,
  from: readonly NewsletterStatus[],
  change: NewsletterChange,
  details: Record<string, unknown> = {},
): Promise<NewsletterRow> {
  const teamId = newsletter.team_id;
  const changed = await services.sql.begin(async (tx) => {
    const row = await changeNewsletter(tx, teamId, newsletter.id, from, change);
    if (row) await recordAudit(tx, { teamId, actorUserId: userId, action, subject: String(newsletter.id), details });
    return row;
  });
  if (!changed) {
    const now = await findNewsletter(services.sql, teamId, newsletter.id);
    throw new UsageError(now ? alreadyText(now) : NEWSLETTER_GONE_TEXT);
  }
  services.logger.info({ teamId, userId, newsletterId: newsletter.id, action }, 'newsletter changed');
  return changed;
}
