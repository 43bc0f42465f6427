import type { Services } from '../../services.ts';
import { loadAlertViews } from './alert-views.ts';
import { leadName, reminderText } from './build-alert-message.ts';
import { alertsOfMessage, channelsWithDueAlerts, dueReminders, markReminded } from './queries.ts';

/**
 * Every minute: alerts whose quiet hours or snooze ended go to their channel's poster, and a reminder goes
 * into the thread of each message whose alerts nobody has claimed within the channel's reminder time.
 * Returns the channels that have alerts to post.
 */
export async function sweepAlerts(services: Services): Promise<Array<{ teamId: string; channelId: string }>> {
  const now = services.clock.now();
  for (const due of await dueReminders(services.sql, now)) {
    const alerts = (await alertsOfMessage(services.sql, due.teamId, due.channelId, due.messageTs)).filter((alert) => due.alertIds.includes(alert.id));
    const views = await loadAlertViews(services.sql, due.teamId, alerts, now);
    if (views.length > 0) {
      await services.slack.chat.postMessage({ channel: due.channelId, thread_ts: due.messageTs, text: reminderText(views.map((view) => leadName(view.lead)), due.minutes) });
    }
    await markReminded(services.sql, due.teamId, due.alertIds, now);
  }
  return channelsWithDueAlerts(services.sql, now);
}
