import type { Queryable } from '../../db/client.ts';
import type { ScoreChange } from '../scoring/score-events.ts';
import { findSegmentById } from '../segments/queries.ts';
import { ruleContext } from '../segments/segments.ts';
import { recentWorkspaceSettings } from '../workspaces/settings.ts';
import { alertCandidates, alertChannels, insertAlerts, leadsInAudience, type AlertCandidate, type AlertChannel } from './queries.ts';
import { quietUntil } from './quiet-hours.ts';

const DAY = 86_400_000;

export interface RaisedAlert {
  id: number;
  channelId: string;
  postAfter: Date;
}

/**
 * Raises an alert for each lead whose score crossed a channel's threshold upward in this scoring batch
 * (before < threshold ≤ after), in the scorer's transaction: the leads' score rows are locked there, so
 * two batches can't both raise one. A lead is alerted at most once per cool-down across all channels;
 * when several channels want the same crossing, the most specific one gets it (a segment filter, then an
 * owner filter, then the higher threshold). Returns the alerts to post (postAfter: after quiet hours).
 */
export async function raiseAlerts(tx: Queryable, teamId: string, changes: readonly ScoreChange[], context: { defaultThreshold: number; now: Date }): Promise<RaisedAlert[]> {
  const rising = changes.filter((change) => change.after > change.before);
  if (rising.length === 0) return [];
  const channels = await alertChannels(tx, teamId);
  if (channels.length === 0) return [];
  const thresholdOf = (channel: AlertChannel) => channel.settings.threshold ?? context.defaultThreshold;
  const crossing = rising.filter((change) => channels.some((channel) => change.before < thresholdOf(channel) && thresholdOf(channel) <= change.after));
  if (crossing.length === 0) return [];

  const { now } = context;
  const leadIds = crossing.map((change) => change.leadId);
  const candidates = new Map((await alertCandidates(tx, teamId, leadIds)).map((candidate) => [candidate.leadId, candidate]));
  const members = await segmentMembers(tx, teamId, channels, leadIds, now);
  const ranked = [...channels].sort(
    (a, b) =>
      Number(b.settings.segmentId !== null) - Number(a.settings.segmentId !== null) ||
      Number(b.settings.owner !== 'any') - Number(a.settings.owner !== 'any') ||
      thresholdOf(b) - thresholdOf(a) ||
      a.channelId.localeCompare(b.channelId),
  );
  const { timeZone } = await recentWorkspaceSettings(tx, teamId);

  const alerts = [];
  for (const change of crossing) {
    const lead = candidates.get(change.leadId);
    if (!lead) continue;
    const channel = ranked.find((candidate) => {
      const threshold = thresholdOf(candidate);
      return change.before < threshold && threshold <= change.after && accepts(candidate, lead, members, now);
    });
    if (!channel) continue;
    alerts.push({
      leadId: change.leadId,
      channelId: channel.channelId,
      score: change.after,
      threshold: thresholdOf(channel),
      reasons: change.reasons,
      raisedAt: now,
      postAfter: quietUntil(channel.settings, timeZone, now),
    });
  }
  return insertAlerts(tx, teamId, alerts);
}

function accepts(channel: AlertChannel, lead: AlertCandidate, members: Map<number, Set<number>>, now: Date): boolean {
  const { settings } = channel;
  if (lead.lastAlertAt && now.getTime() - lead.lastAlertAt.getTime() < settings.coolDownDays * DAY) return false;
  if (!settings.stages.includes(lead.stage as never)) return false;
  if (settings.owner === 'unowned' && lead.ownerUserId !== null) return false;
  if (settings.owner === 'listed' && (lead.ownerUserId === null || !settings.ownerUserIds.includes(lead.ownerUserId))) return false;
  if (settings.segmentId !== null && !members.get(settings.segmentId)?.has(lead.leadId)) return false;
  return true;
}

/** For each segment a channel filters on, which of these leads are in it now (a deleted segment: none). */
async function segmentMembers(tx: Queryable, teamId: string, channels: readonly AlertChannel[], leadIds: readonly number[], now: Date): Promise<Map<number, Set<number>>> {
  const members = new Map<number, Set<number>>();
  const segmentIds = new Set(channels.flatMap((channel) => (channel.settings.segmentId === null ? [] : [channel.settings.segmentId])));
  for (const segmentId of segmentIds) {
    const segment = await findSegmentById(tx, teamId, segmentId);
    if (!segment) {
      members.set(segmentId, new Set());
      continue;
    }
    members.set(segmentId, new Set(await leadsInAudience(tx, segment.rule, ruleContext(teamId, now), leadIds)));
  }
  return members;
}
