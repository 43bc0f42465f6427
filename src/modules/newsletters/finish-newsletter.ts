import type { Services } from '../../services.ts';
import { countByState } from '../delivery/ledger-queries.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { ledgerTotals } from './build-newsletter-card.ts';
import { NURTURE_ACTOR, type NewsletterRow } from './newsletter.ts';
import { finishIfDone } from './queries.ts';

/** Marks a sending newsletter sent once nothing is left to send, audited with its summary; exactly once. */
export async function finishNewsletterIfDone(services: Services, teamId: string, newsletterId: number): Promise<NewsletterRow | undefined> {
  return services.sql.begin(async (tx) => {
    const finished = await finishIfDone(tx, teamId, newsletterId);
    if (!finished) return undefined;
    const totals = ledgerTotals(await countByState(tx, teamId, 'newsletter', newsletterId));
    await recordAudit(tx, { teamId, actorUserId: NURTURE_ACTOR, action: 'newsletter.finished', subject: String(newsletterId), details: totals });
    services.logger.info({ teamId, newsletterId, ...totals }, 'newsletter sent');
    return finished;
  });
}
