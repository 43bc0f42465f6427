import { wallTimeAt } from '../settings/zoned-time.ts';
import type { AlertChannelSettings } from './alert-channel.ts';

const MINUTE = 60_000;
/** Far enough to leave any quiet stretch (a weekend plus the night before Monday's quiet hours end). */
const SEARCH_LIMIT_MINUTES = 4 * 24 * 60;
const COARSE_MINUTES = 15;

/**
 * When an alert raised at `now` may be posted: now, or when the channel's quiet hours (and weekend, if
 * quiet) end, in the workspace's time zone. Walks forward in quarter hours, then to the exact minute,
 * so a quiet stretch over midnight, a weekend, or a DST change needs no special case.
 */
export function quietUntil(settings: Pick<AlertChannelSettings, 'quietHours' | 'quietWeekends'>, timeZone: string, now: Date): Date {
  if (!isQuiet(settings, timeZone, now)) return now;
  // Coarse steps to the first quiet-free quarter hour, then minute by minute back from there.
  let lastQuiet = now.getTime();
  for (let walked = 0; walked < SEARCH_LIMIT_MINUTES; walked += COARSE_MINUTES) {
    const next = lastQuiet + COARSE_MINUTES * MINUTE;
    if (isQuiet(settings, timeZone, new Date(next))) {
      lastQuiet = next;
      continue;
    }
    for (let minute = 1; minute <= COARSE_MINUTES; minute++) {
      const candidate = startOfMinute(lastQuiet + minute * MINUTE);
      if (!isQuiet(settings, timeZone, candidate)) return candidate;
    }
  }
  return now;
}

function isQuiet(settings: Pick<AlertChannelSettings, 'quietHours' | 'quietWeekends'>, timeZone: string, at: Date): boolean {
  const wall = wallTimeAt(at, timeZone);
  if (settings.quietWeekends) {
    const weekday = new Date(`${wall.date}T12:00:00Z`).getUTCDay();
    if (weekday === 0 || weekday === 6) return true;
  }
  const hours = settings.quietHours;
  if (!hours || hours.from === hours.to) return false;
  // "HH:MM" strings compare in time order.
  return hours.from < hours.to ? wall.time >= hours.from && wall.time < hours.to : wall.time >= hours.from || wall.time < hours.to;
}

function startOfMinute(instant: number): Date {
  return new Date(Math.floor(instant / MINUTE) * MINUTE);
}
