import type { Services } from '../../services.ts';
import { countByState, leadsForSending } from '../delivery/ledger-queries.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { buildNewsletterCard, type CardFacts } from './build-newsletter-card.ts';
import type { NewsletterRow } from './newsletter.ts';
import { findNewsletter } from './queries.ts';
import { renderSamples } from './render-samples.ts';
import { slackErrorCode } from '../../slack/slack-errors.ts';

/** What the card shows now: the stored plan, fresh renders for its sample members, and the ledger once started. */
export async function loadCardFacts(services: Services, newsletter: NewsletterRow): Promise<CardFacts> {
  const { sql } = services;
  const teamId = newsletter.team_id;
  const { plan } = newsletter.content;
  const [settings, leads, ledger] = await Promise.all([
    getWorkspaceSettings(sql, teamId),
    leadsForSending(sql, teamId, plan.sampleLeadIds),
    newsletter.started_at ? countByState(sql, teamId, 'newsletter', newsletter.id) : Promise.resolve({}),
  ]);
  const ordered = plan.sampleLeadIds.flatMap((id) => leads.filter((lead) => lead.id === id));
  return {
    newsletter,
    timeZone: settings.timeZone,
    selfApprovalBelow: settings.selfApprovalBelow,
    sendExpiryMinutes: settings.sendExpiryMinutes,
    samples: renderSamples(newsletter.content, ordered, services.config.publicUrl),
    ledger,
  };
}

/** The card is gone or out of reach (deleted, the bot removed, the channel archived): nothing to update. */
const CARD_GONE = new Set(['message_not_found', 'channel_not_found', 'not_in_channel', 'is_archived', 'cant_update_message']);

/**
 * Rewrites the card in its channel from the newsletter as it is now (who did what, progress, summary).
 * A card that can no longer be updated does not stop the send: `/nurture newsletter show` has the same facts.
 */
export async function refreshNewsletterCard(services: Services, teamId: string, newsletterId: number): Promise<void> {
  const newsletter = await findNewsletter(services.sql, teamId, newsletterId);
  if (!newsletter?.message_ts) return;
  const card = buildNewsletterCard(await loadCardFacts(services, newsletter));
  try {
    await services.slack.chat.update({ channel: newsletter.channel_id, ts: newsletter.message_ts, text: card.text, blocks: card.blocks });
  } catch (error) {
    const code = slackErrorCode(error);
    if (!code || !CARD_GONE.has(code)) throw error;
    services.logger.warn({ teamId, newsletterId, error: code }, 'the send plan card can no longer be updated');
  }
}
