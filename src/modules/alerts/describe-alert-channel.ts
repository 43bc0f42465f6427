import type { Queryable } from '../../db/client.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';
import { loadScoringModel } from '../scoring/load-scoring-model.ts';
import { findSegmentById } from '../segments/queries.ts';
import type { AlertChannelSettings } from './alert-channel.ts';

/** A channel's alert settings in one line: "leads reaching 50 (the workspace's threshold), any owner, …". */
export async function describeAlertChannel(sql: Queryable, teamId: string, settings: AlertChannelSettings): Promise<string> {
  const threshold = settings.threshold ?? `${(await loadScoringModel(sql, teamId)).alertThreshold} (the workspace's threshold)`;
  const segment = settings.segmentId === null ? undefined : await findSegmentById(sql, teamId, settings.segmentId);
  const owners =
    settings.owner === 'any' ? 'any owner' : settings.owner === 'unowned' ? 'only leads nobody owns' : `leads owned by ${settings.ownerUserIds.map((id) => `<@${id}>`).join(', ')}`;
  const quiet = [settings.quietHours ? `quiet ${settings.quietHours.from}–${settings.quietHours.to}` : '', settings.quietWeekends ? 'quiet on weekends' : ''].filter(Boolean).join(', ');
  return [
    `leads reaching a score of ${threshold}`,
    segment ? `in segment *${escapeMrkdwn(segment.name)}*` : settings.segmentId !== null ? 'in a segment that was deleted (no alerts until it is changed)' : '',
    owners,
    `stages ${settings.stages.join(', ')}`,
    quiet,
    `at most one alert per lead every ${settings.coolDownDays} day${settings.coolDownDays === 1 ? '' : 's'}`,
    settings.remindAfterMinutes === null ? 'no reminders' : `a reminder after ${settings.remindAfterMinutes} minutes unclaimed`,
    `claiming pauses nurture for ${settings.claimHoldDays} days`,
  ]
    .filter(Boolean)
    .join('; ');
}
