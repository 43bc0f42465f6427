import type { MemberRow } from './queries.ts';

/** The columns of a segment export, in order. */
export const EXPORT_COLUMNS = ['email', 'first_name', 'last_name', 'company', 'title', 'stage', 'status'] as const satisfies ReadonlyArray<keyof MemberRow>;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
 * Spreadsheets run a cell starting with = + - @ (or a tab / carriage return) as a formula, and lead
 * data comes from web forms: such a cell gets a leading ' so it is shown as text (OWASP "CSV injection").
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvLine = (cells: ReadonlyArray<string | number | null | undefined>) => `${cells.map(csvCell).join(',')}\r\n`;

export const csvHeader = () => csvLine(EXPORT_COLUMNS);

export const csvMemberLine = (member: MemberRow) => csvLine(EXPORT_COLUMNS.map((column) => member[column]));

/** Excel opens a UTF-8 CSV correctly only with a byte order mark (names in Japanese, accents…). */
export const CSV_BOM = '\uFEFF';
