import type { Services } from '../../services.ts';
import { loadAlertViews } from './alert-views.ts';
import { buildAlertMessage, buildRollupMessage, ROLLUP_MAX_ALERTS } from './build-alert-message.ts';
import { duePendingAlerts, lockChannelPosting, markAlertsPosted, recentChannelPosts } from './queries.ts';

/** Slack takes about one message per second per channel. */
export const MIN_POST_SPACING_MS = 1100;
/** Messages a channel gets per minute at most: past that, what waits goes out as one roll-up. */
export const MAX_POSTS_PER_MINUTE = 4;

export type PostOutcome =
  /** Nothing left to post now. */
  | { kind: 'done' }
  /** More to post (or the channel's budget is spent): try again at this real time. */
  | { kind: 'later'; at: Date };

/**
 * Posts what a channel has waiting, within Slack's pace: one alert per message while the channel has
 * had fewer than MAX_POSTS_PER_MINUTE this minute and the burst fits in that; otherwise everything
 * waiting in one roll-up. One poster per channel at a time (an advisory lock), the alerts locked while
 * Slack is called: a failed call (thrown, retried by the queue) leaves them waiting, never lost.
 */
export async function postChannelAlerts(services: Services, teamId: string, channelId: string): Promise<PostOutcome> {
  const now = services.clock.now();
  return services.sql.begin(async (tx) => {
    await lockChannelPosting(tx, teamId, channelId);
    const pending = await duePendingAlerts(tx, teamId, channelId, now, ROLLUP_MAX_ALERTS + 1);
    if (pending.length === 0) return { kind: 'done' } as const;
    const recent = await recentChannelPosts(tx, teamId, channelId);
    const wait = Math.max(
      recent.length > 0 ? MIN_POST_SPACING_MS - recent[0]!.ageMs : 0,
      recent.length >= MAX_POSTS_PER_MINUTE ? 60_000 - recent[recent.length - 1]!.ageMs : 0,
    );
    if (wait > 0) return { kind: 'later', at: new Date(Date.now() + wait) } as const;

    const single = pending.length === 1 || recent.length + pending.length <= MAX_POSTS_PER_MINUTE;
    const batch = single ? pending.slice(0, 1) : pending.slice(0, ROLLUP_MAX_ALERTS);
    const views = await loadAlertViews(tx, teamId, batch, now);
    if (views.length === 0) {
      // Every lead of the batch was erased meanwhile: nothing to show; their alerts go with them (cascade).
      return { kind: 'later', at: new Date() } as const;
    }
    // Shown as posted: the message carries the buttons of a posted alert.
    const shown = views.map((view) => ({ ...view, alert: { ...view.alert, status: 'posted' as const } }));
    const message = shown.length === 1 ? buildAlertMessage(shown[0]!) : buildRollupMessage(shown);
    const posted = await services.slack.chat.postMessage({ channel: channelId, ...message, unfurl_links: false, unfurl_media: false });
    await markAlertsPosted(tx, teamId, shown.map((view) => view.alert.id), { messageTs: posted.ts!, postedAt: now, rolledUp: shown.length > 1 });
    services.logger.info({ teamId, channelId, alerts: shown.length, rolledUp: shown.length > 1 }, 'hot-lead alert posted');
    return pending.length > batch.length ? ({ kind: 'later', at: new Date(Date.now() + MIN_POST_SPACING_MS) } as const) : ({ kind: 'done' } as const);
  });
}
