/**
 * Wall-clock times in a workspace's IANA time zone, with Intl only (Node ships the full tz database).
 */

/** The zone's canonical name (`asia/tokyo` → `Asia/Tokyo`), or undefined when Intl does not know it. */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

export interface WallTime {
  /** YYYY-MM-DD */
  date: string;
  /** HH:mm, 24-hour */
  time: string;
}

const partsFormats = new Map<string, Intl.DateTimeFormat>();

/** What a clock in the zone shows at the instant (to the minute). */
export function wallTimeAt(instant: Date, timeZone: string): WallTime {
  let format = partsFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    partsFormats.set(timeZone, format);
  }
  const part = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
  return { date: `${part.year}-${part.month}-${part.day}`, time: `${part.hour}:${part.minute}` };
}

/** The zone's offset from UTC at the instant, in milliseconds (Tokyo: +9 h). */
function offsetAt(instant: number, timeZone: string): number {
  const wall = wallTimeAt(new Date(instant), timeZone);
  return asUtc(wall) - Math.floor(instant / 60_000) * 60_000;
}

const asUtc = ({ date, time }: WallTime) => Date.parse(`${date}T${time}:00Z`);

export type WallTimeInstant =
  | { ok: true; instant: Date }
  /** The clocks skip that time that day (spring forward): it never happens. */
  | { ok: false; reason: 'skipped' };

/**
 * The instant a clock in the zone shows this date and time. Around a change of offset the two offsets of
 * the day are tried: a time shown twice (fall back) is its first occurrence, a time skipped is refused.
 */
export function wallTimeToInstant(wall: WallTime, timeZone: string): WallTimeInstant {
  const naive = asUtc(wall);
  const day = 86_400_000;
  const candidates = [...new Set([offsetAt(naive - day, timeZone), offsetAt(naive, timeZone), offsetAt(naive + day, timeZone)])]
    .map((offset) => naive - offset)
    .filter((instant) => {
      const shown = wallTimeAt(new Date(instant), timeZone);
      return shown.date === wall.date && shown.time === wall.time;
    })
    .sort((a, b) => a - b);
  return candidates.length > 0 ? { ok: true, instant: new Date(candidates[0]!) } : { ok: false, reason: 'skipped' };
}

/** e.g. "Tue 3 Nov 2026, 09:30 (Asia/Tokyo)": how times are shown to people in the workspace. */
export function formatInZone(instant: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(instant);
  return `${text} (${timeZone})`;
}
