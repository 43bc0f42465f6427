import { wallTimeAt, wallTimeToInstant } from '../settings/zoned-time.ts';
import { isHoliday } from './holiday-calendars.ts';
import type { SendWindow } from './sequence.ts';

/**
 * Send windows on the lead's own clock: weekdays and hours in the lead's zone (the workspace's when the
 * lead has none), minus the days of a holiday calendar. A step due outside its window goes out at the
 * next opening. DST is the zone's: "09:00" is nine on the lead's wall clock whatever the offset that day.
 */

const DAY_MS = 86_400_000;
/** A window opens at least once a week, holidays aside; no calendar closes more than a few weeks in a row. */
const SEARCH_DAYS = 400;
/** The clocks jump by an hour, or half an hour (Lord Howe): a skipped wall time is looked for after the gap. */
const GAP_STEP_MINUTES = 15;

const SUPPORTED_ZONES: readonly string[] = Intl.supportedValuesOf('timeZone');
const knownZones = new Set(SUPPORTED_ZONES);

/** Every zone a lead can have (leads.time_zone is validated against this list), for per-zone due times. */
export const LEAD_TIME_ZONES: readonly string[] = SUPPORTED_ZONES;

/** The zone a lead's window is read in: its own when valid, else the workspace's, else UTC. */
export function zoneOf(leadZone: string | null, workspaceZone: string): string {
  if (leadZone && knownZones.has(leadZone)) return leadZone;
  if (knownZones.has(workspaceZone) || isIntlZone(workspaceZone)) return workspaceZone;
  return 'UTC';
}

function isIntlZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    knownZones.add(zone);
    return true;
  } catch {
    return false;
  }
}

/** Whether the window is open at the instant in the zone (start inclusive, end exclusive). */
export function isWindowOpen(instant: Date, window: SendWindow, timeZone: string): boolean {
  const wall = wallTimeAt(instant, timeZone);
  return isSendDay(wall.date, window) && wall.time >= window.start && wall.time < window.end;
}

/** The first instant at or after `from` at which the window is open in the zone. */
export function nextWindowOpening(from: Date, window: SendWindow, timeZone: string): Date {
  const today = wallTimeAt(from, timeZone).date;
  for (let offset = 0; offset <= SEARCH_DAYS; offset++) {
    const date = addDays(today, offset);
    if (!isSendDay(date, window)) continue;
    const opens = wallInstant(date, window.start, timeZone);
    if (from < opens) return opens;
    if (from < wallInstant(date, window.end, timeZone)) return from;
  }
  // Unreachable with a valid window (at least one weekday); never drop a step over it.
  return from;
}

/**
 * nextWindowOpening, remembered per zone, window and instant: a tick moves thousands of runs whose due
 * times share a few instants (everyone enrolled by one sweep, everyone whose step went out this minute).
 */
export function windowOpeningFinder(): (from: Date, window: SendWindow, timeZone: string) => Date {
  const keys = new WeakMap<SendWindow, string>();
  const found = new Map<string, Date>();
  return (from, window, timeZone) => {
    let windowKey = keys.get(window);
    if (windowKey === undefined) keys.set(window, (windowKey = JSON.stringify(window)));
    const key = `${timeZone}|${from.getTime()}|${windowKey}`;
    let opening = found.get(key);
    if (!opening) found.set(key, (opening = nextWindowOpening(from, window, timeZone)));
    return opening;
  };
}

/** Due times for one instant in every zone a lead can have: set-based enrollment joins them by zone. */
export function openingsByZone(from: Date, window: SendWindow, zones: readonly string[]): { zones: string[]; dues: Date[] } {
  const dues = zones.map((zone) => nextWindowOpening(from, window, zone));
  return { zones: [...zones], dues };
}

function isSendDay(date: string, window: SendWindow): boolean {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay() || 7;
  return window.days.includes(weekday) && !(window.holidays && isHoliday(window.holidays, date));
}

/** The instant the zone's clocks show the date and time; a time the clocks skip becomes the first after the gap. */
function wallInstant(date: string, time: string, timeZone: string): Date {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  for (let shift = 0; shift <= 3 * 60; shift += GAP_STEP_MINUTES) {
    const total = hours * 60 + minutes + shift;
    if (total >= 24 * 60) break;
    const wall = { date, time: `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}` };
    const result = wallTimeToInstant(wall, timeZone);
    if (result.ok) return result.instant;
  }
  // No zone skips three hours; should one, the next day's opening is as close as it gets.
  return wallInstant(addDays(date, 1), '00:00', timeZone);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}
