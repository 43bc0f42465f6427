import holidayJp from '@holiday-jp/holiday_jp';
import type { SendWindow } from './sequence.ts';

export type HolidayCalendar = NonNullable<SendWindow['holidays']>;

/**
 * Days a send window skips, by calendar. `jp`: Japan's national holidays, substitute holidays and
 * citizens' holidays, from @holiday-jp/holiday_jp (the holiday_jp project's data, also used by its Ruby,
 * Go and Python ports; it lists the years ahead as the law fixes them today).
 */
const CALENDARS: Record<HolidayCalendar, Readonly<Record<string, unknown>>> = {
  jp: holidayJp.holidays,
};

/** Whether the date (YYYY-MM-DD, a wall-calendar day in the lead's zone) is a holiday of the calendar. */
export function isHoliday(calendar: HolidayCalendar, date: string): boolean {
  // A key lookup: the package's own isHoliday scans every key (≈2,000) per call.
  return Object.hasOwn(CALENDARS[calendar], date);
}
