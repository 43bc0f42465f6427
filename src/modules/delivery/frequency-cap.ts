import type { WorkspaceSettings } from '../workspaces/settings.ts';
import type { RecentSends } from './ledger-queries.ts';

const DAY_MS = 24 * 3600 * 1000;

export type CapCheck = { capped: false } | { capped: true; reason: string; /** When the lead may be mailed again. */ freesAt: Date };

/**
 * The workspace's frequency cap for one lead, from the marketing emails it was sent in the last 24 hours
 * and 7 days (rolling windows: "at most one a day" holds at any hour, whatever the time zones).
 */
export function checkFrequencyCap(recent: RecentSends | undefined, settings: Pick<WorkspaceSettings, 'capPerDay' | 'capPerWeek'>): CapCheck {
  if (!recent) return { capped: false };
  const frees: Date[] = [];
  const reasons: string[] = [];
  if (recent.last_day >= settings.capPerDay && recent.oldest_in_day) {
    reasons.push(`${recent.last_day} in the last 24 hours (cap ${settings.capPerDay})`);
    frees.push(new Date(recent.oldest_in_day.getTime() + DAY_MS));
  }
  if (recent.last_week >= settings.capPerWeek && recent.oldest_in_week) {
    reasons.push(`${recent.last_week} in the last 7 days (cap ${settings.capPerWeek})`);
    frees.push(new Date(recent.oldest_in_week.getTime() + 7 * DAY_MS));
  }
  if (reasons.length === 0) return { capped: false };
  return { capped: true, reason: `frequency cap: ${reasons.join(', ')}`, freesAt: new Date(Math.max(...frees.map((date) => date.getTime()))) };
}

/** Counts an email claimed in this batch, so a second email to the same lead in one claim is capped too. */
export function countClaimed(recent: RecentSends | undefined, leadId: number, at: Date): RecentSends {
  if (!recent) return { lead_id: leadId, last_day: 1, last_week: 1, oldest_in_day: at, oldest_in_week: at };
  return {
    ...recent,
    last_day: recent.last_day + 1,
    last_week: recent.last_week + 1,
    oldest_in_day: recent.oldest_in_day ?? at,
    oldest_in_week: recent.oldest_in_week ?? at,
  };
}
