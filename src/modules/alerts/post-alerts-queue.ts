import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import { CANNOT_POST_CODES, slackErrorCode } from '../../slack/slack-errors.ts';
import { postChannelAlerts } from './post-alerts.ts';
import { findAlertChannel } from './queries.ts';

export const PostAlertsPayloadSchema = z.object({ teamId: z.string().min(1), channelId: z.string().regex(/^[CG][A-Z0-9]+$/) }).strict();

/**
 * Posting a channel's waiting alerts (post-alerts.ts). `stately` per channel (singletonKey): one job runs
 * and one waits, so a burst of alerts for a channel costs one waiting job, which reads everything waiting
 * when it runs. `notify`: a worker picks it up within milliseconds, so the rep sees the alert while the
 * lead is still on the site. Slack errors throw and are retried; the alerts stay waiting meanwhile.
 */
export const postAlertsQueue = defineQueue({
  name: 'alerts.post',
  payload: PostAlertsPayloadSchema,
  queue: { policy: 'stately', notify: true, retryLimit: 10, retryDelay: 2, retryBackoff: true, expireInSeconds: 120, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 1, localConcurrency: 2, pollingIntervalSeconds: 1, notifyPollingIntervalSeconds: 5 },
  handle: async ({ teamId, channelId }, { services }) => {
    let outcome;
    try {
      outcome = await postChannelAlerts(services, teamId, channelId);
    } catch (error) {
      if (CANNOT_POST_CODES.has(slackErrorCode(error) ?? '')) await tellChannelOwner(services, teamId, channelId, slackErrorCode(error)!);
      throw error;
    }
    if (outcome.kind === 'later') await requestAlertPosts(services, teamId, [channelId], outcome.at);
  },
});

export const cannotPostAlertsText = (channelId: string, code: string) =>
  `:warning: I can't post hot-lead alerts in <#${channelId}> (Slack says \`${code}\`), so they are waiting. ` +
  `Invite me there with \`/invite @Nurture\`, or stop them with \`/nurture alerts off\` in that channel. I'll keep trying.`;

/** When this process last told a channel's owner that alerts can't be posted there: once an hour is enough. */
const toldOwners = new Map<string, number>();
const TELL_OWNER_EVERY_MS = 3_600_000;

/** The person who set the channel up hears of it by DM (retries of the post go on meanwhile). */
async function tellChannelOwner(services: Services, teamId: string, channelId: string, code: string): Promise<void> {
  const key = `${teamId}:${channelId}`;
  if ((toldOwners.get(key) ?? 0) > Date.now() - TELL_OWNER_EVERY_MS) return;
  toldOwners.set(key, Date.now());
  const channel = await findAlertChannel(services.sql, teamId, channelId);
  services.logger.warn({ teamId, channelId, error: code }, 'hot-lead alerts cannot be posted in the channel');
  if (!channel) return;
  await services.slack.chat
    .postMessage({ channel: channel.updatedBy, text: cannotPostAlertsText(channelId, code) })
    .catch((error: unknown) => services.logger.warn({ err: error, teamId, channelId }, 'could not tell the alert channel owner'));
}

/** Asks for the channels' waiting alerts to be posted (now, or at `at` real time). */
export async function requestAlertPosts(services: Services, teamId: string, channelIds: Iterable<string>, at?: Date): Promise<void> {
  for (const channelId of new Set(channelIds)) {
    await services.enqueue(postAlertsQueue, { teamId, channelId }, { singletonKey: `${teamId}:${channelId}`, ...(at ? { startAfter: at } : {}) });
  }
}
