import { isUtf8 } from 'node:buffer';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { UserFacingError } from '../../lib/errors.ts';
import { MAX_CUSTOM_ATTRIBUTES } from '../leads/lead-input.ts';

/**
 * Streams a CSV of leads: bytes in, one lead object (API field names) per row out. Memory stays flat:
 * the file is never held whole, only the current chunk and the row being parsed.
 *
 * Row numbers are the ones a spreadsheet shows: the header is row 1, and a cell with line breaks in it
 * is still one row. Problems with one row are yielded and the rest go on; problems with the file
 * itself (not UTF-8, no email column) throw a CsvFileError.
 */

/** A problem with the file as a whole. `row` is set when rows before it were read (and may have been imported). */
export class CsvFileError extends UserFacingError {
  override name = 'CsvFileError';
  readonly row: number | undefined;
  constructor(message: string, row?: number) {
    super(message);
    this.row = row;
  }
}

export const NOT_UTF8_TEXT = 'the file is not UTF-8 — in Excel use Save As → “CSV UTF-8 (Comma delimited)”, then import that file';
export const UTF16_TEXT = 'the file is UTF-16 (Excel’s “Unicode Text”), not UTF-8 — in Excel use Save As → “CSV UTF-8 (Comma delimited)”';
export const EMPTY_FILE_TEXT = 'the file is empty';

export type LeadCsvRow =
  | { row: number; lead: Record<string, unknown> }
  | { row: number; problem: string; email?: string };

/** The lead fields a column can fill (API names). Everything else becomes a custom attribute. */
export const CSV_FIELDS = [
  'email',
  'first_name',
  'last_name',
  'company',
  'title',
  'industry',
  'stage',
  'source',
  'time_zone',
  'locale',
  'owner',
  'consent_at',
  'consent_source',
] as const;
export type CsvField = (typeof CSV_FIELDS)[number];

/** Header names people use for each field, English and Japanese; compared after normalizeHeader(). */
const ALIASES: Record<CsvField, readonly string[]> = {
  email: ['email', 'e-mail', 'email address', 'e-mail address', 'mail', 'mail address', 'メール', 'メールアドレス', 'eメール', 'eメールアドレス'],
  first_name: ['first name', 'firstname', 'given name', 'forename', '名', 'ファーストネーム'],
  last_name: ['last name', 'lastname', 'surname', 'family name', '姓', '名字', '苗字', 'ラストネーム'],
  company: ['company', 'company name', 'organization', 'organisation', 'organization name', '会社', '会社名', '企業名', '組織'],
  title: ['title', 'job title', 'role', 'position', '役職', '肩書', '肩書き'],
  industry: ['industry', 'sector', '業種', '業界'],
  stage: ['stage', 'buying stage'],
  source: ['source', 'lead source'],
  time_zone: ['time zone', 'timezone', 'tz', 'タイムゾーン'],
  locale: ['locale', 'language', 'lang', '言語'],
  owner: ['owner'],
  consent_at: ['consent at', 'consented at', 'consent date', '同意日時'],
  consent_source: ['consent source', '同意元'],
};

/** Case, width (full-width Ｅｍａｉｌ), spaces, hyphens, underscores and dots do not matter in headers. */
export function normalizeHeader(header: string): string {
  return header.normalize('NFKC').toLowerCase().replace(/[\s\-_.・]+/gu, '');
}

const FIELD_BY_ALIAS = new Map<string, CsvField>(
  CSV_FIELDS.flatMap((field) => [field, ...ALIASES[field]].map((alias) => [normalizeHeader(alias), field] as const)),
);

const MAX_ATTRIBUTE_NAME = 64;
/** A row longer than this is a runaway quote, not data (50 attributes × 1,000 characters is far below). */
const MAX_ROW_CHARACTERS = 1_000_000;
/** Held back while looking for a line end; past this a line is passed on whole (a file with no line breaks). */
const MAX_CARRY_BYTES = 1_000_000;
const LF = 0x0a;

export interface CsvColumn {
  index: number;
  /** As written in the file, trimmed. */
  header: string;
  /** The lead field it fills, or undefined: a custom attribute named `header`. */
  field?: CsvField;
}

export interface CsvHeader {
  /** Columns used, in file order (blank-headed columns are left out). */
  columns: CsvColumn[];
  /** How many columns had no header and were ignored. */
  ignoredColumns: number;
  delimiter: string;
}

export interface ReadLeadCsvOptions {
  /** Called once the header is read and mapped, before the first row. */
  onHeader?: (header: CsvHeader) => void;
}

/**
 * Yields one entry per data row: `{ row, lead }` for rows to upsert (validation is the upsert's job),
 * `{ row, problem }` for rows that could not be read. Blank rows are skipped.
 */
export async function* readLeadCsv(input: AsyncIterable<Uint8Array>, options: ReadLeadCsvOptions = {}): AsyncGenerator<LeadCsvRow> {
  const source = new Utf8LineSource(input);
  const first = await source.firstLines();
  if (first === undefined) throw new CsvFileError(source.failure ?? EMPTY_FILE_TEXT, source.failure ? 1 : undefined);

  const delimiter = detectDelimiter(first.toString('utf8', 0, Math.min(first.length, 64 * 1024)));
  // Rows the parser could not read, by how many records it had emitted before each (CsvError.records).
  const skipped: Array<{ after: number; error: CsvError | undefined }> = [];
  const parser = parse({
    delimiter,
    relax_column_count: true,
    // A stray quote inside a cell (5" display) is kept as text rather than failing the rest of the file.
    relax_quotes: true,
    max_record_size: MAX_ROW_CHARACTERS,
    encoding: 'utf8',
    // Report unreadable rows instead of failing: thrown errors would also drop the rows still buffered.
    skip_records_with_error: true,
    on_skip: (error) => {
      skipped.push({ after: typeof error?.records === 'number' ? error.records : Number.MAX_SAFE_INTEGER, error });
    },
  });
  const feeding = pipeline(source.rest(first), parser).catch(() => {
    // Iterating the parser reports what went wrong; a source problem is kept in `source.failure`.
  });

  let emitted = 0;
  let skippedSoFar = 0;
  let row = 0;
  let header: CsvHeader | undefined;
  let width = 0;
  let unreadableAt: number | undefined;
  /** The problem rows the parser skipped before the emitted record `upTo` (all of them when undefined). */
  function* skippedRows(upTo?: number): Generator<LeadCsvRow> {
    while (skipped.length > 0 && (upTo === undefined || skipped[0]!.after < upTo)) {
      const { after, error } = skipped.shift()!;
      skippedSoFar += 1;
      row = Math.min(after, emitted) + skippedSoFar;
      // Cut off at invalid bytes inside a quoted cell: that row is where the file stops being UTF-8.
      if (source.failure) unreadableAt ??= row;
      if (header === undefined || source.failure) continue;
      yield { row, problem: unreadableRowProblem(row, error) };
    }
  }

  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      emitted += 1;
      yield* skippedRows(emitted);
      row = emitted + skippedSoFar;
      if (header === undefined) {
        header = mapHeader(record, delimiter);
        width = lastNonBlank(record) + 1;
        options.onHeader?.(header);
        continue;
      }
      if (record.every((cell) => cell.trim() === '')) continue;
      yield readRow(header, width, record, row);
    }
    const unreadHeader = header === undefined && skipped.length > 0 ? skipped[0] : undefined;
    yield* skippedRows();
    if (source.failure) throw new CsvFileError(source.failure, unreadableAt ?? row + 1);
    if (unreadHeader) throw new CsvFileError(unreadableRowProblem(1, unreadHeader.error), 1);
    if (header === undefined) throw new CsvFileError(EMPTY_FILE_TEXT);
  } finally {
    parser.destroy();
    await feeding;
  }
}

function unreadableRowProblem(row: number, error: CsvError | undefined): string {
  if (error?.code === 'CSV_QUOTE_NOT_CLOSED') {
    return `a quoted cell in row ${row} is never closed (a stray " character?), so the rest of the file was read as one cell: nothing from row ${row} on was imported`;
  }
  if (error?.code === 'CSV_MAX_RECORD_SIZE') {
    return `row ${row} is longer than ${MAX_ROW_CHARACTERS.toLocaleString('en-US')} characters (a quote never closed?): nothing from row ${row} on was imported`;
  }
  return `row ${row} could not be read: ${error?.message ?? 'unknown problem'}`;
}

function mapHeader(record: string[], delimiter: string): CsvHeader {
  const headers = record.map((cell) => cell.trim());
  if (headers.every((cell) => cell === '')) {
    throw new CsvFileError('row 1 is empty: the first row must name the columns, e.g. email, first name, company', 1);
  }
  const columns: CsvColumn[] = [];
  const byField = new Map<CsvField, CsvColumn>();
  const byAttribute = new Map<string, CsvColumn>();
  let ignoredColumns = 0;
  headers.forEach((header, index) => {
    if (header === '') {
      ignoredColumns += 1;
      return;
    }
    const field = FIELD_BY_ALIAS.get(normalizeHeader(header));
    const column: CsvColumn = field ? { index, header, field } : { index, header };
    if (field) {
      const earlier = byField.get(field);
      if (earlier) throw new CsvFileError(`the columns “${earlier.header}” and “${header}” both mean ${field}: keep one of them`, 1);
      byField.set(field, column);
    } else {
      if (header.length > MAX_ATTRIBUTE_NAME) {
        throw new CsvFileError(`the column name “${header.slice(0, 80)}…” is longer than ${MAX_ATTRIBUTE_NAME} characters: shorten it`, 1);
      }
      const earlier = byAttribute.get(header.toLowerCase());
      if (earlier) throw new CsvFileError(`there are two columns named “${header}”: rename or remove one`, 1);
      byAttribute.set(header.toLowerCase(), column);
    }
    columns.push(column);
  });
  if (!byField.has('email')) {
    const found = headers.filter((header) => header !== '');
    const shown = found.slice(0, 20).map((header) => `“${header.length > 40 ? `${header.slice(0, 40)}…` : header}”`);
    const more = found.length > 20 ? ` and ${found.length - 20} more` : '';
    const hint = found.length === 1 && /[;\t]/.test(found[0]!) ? ' (is the file separated by something other than commas?)' : '';
    throw new CsvFileError(
      `there is no email column. The first row should name the columns; I found ${shown.join(', ')}${more}${hint}. Name the column with the addresses “email”.`,
      1,
    );
  }
  if (byAttribute.size > MAX_CUSTOM_ATTRIBUTES) {
    throw new CsvFileError(
      `the file has ${byAttribute.size} columns that are not lead fields, and each lead keeps at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes: remove the columns you do not need`,
      1,
    );
  }
  return { columns, ignoredColumns, delimiter };
}

function readRow(header: CsvHeader, width: number, record: string[], row: number): LeadCsvRow {
  // Extra cells that are blank (a trailing comma from a spreadsheet) are harmless; anything else is misaligned.
  const extraFilled = record.slice(width).some((cell) => cell.trim() !== '');
  if (record.length < width || extraFilled) {
    const email = header.columns.find((column) => column.field === 'email');
    const guess = email ? record[email.index]?.trim() : undefined;
    return {
      row,
      problem: `row ${row} has ${record.length} column${record.length === 1 ? '' : 's'}, the header has ${width} (a missing or extra comma, or a quote not closed?)`,
      ...(guess ? { email: guess } : {}),
    };
  }
  const lead: Record<string, unknown> = {};
  let attributes: Record<string, string> | undefined;
  for (const column of header.columns) {
    const value = record[column.index];
    if (value === undefined || value.trim() === '') continue;
    if (column.field === undefined) {
      attributes ??= {};
      attributes[column.header] = value.trim();
    } else {
      lead[column.field] = column.field === 'stage' ? value.trim().toLowerCase() : value;
    }
  }
  if (attributes) lead.attributes = attributes;
  return { row, lead };
}

function lastNonBlank(record: readonly string[]): number {
  for (let i = record.length - 1; i >= 0; i -= 1) if (record[i]!.trim() !== '') return i;
  return -1;
}

/** Comma unless the header has none and uses semicolons (European Excel) or tabs instead. */
function detectDelimiter(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  const count = (ch: string) => line.split(ch).length - 1;
  if (count(',') > 0) return ',';
  const semicolons = count(';');
  const tabs = count('\t');
  if (semicolons === 0 && tabs === 0) return ',';
  return tabs > semicolons ? '\t' : ';';
}

/**
 * Passes the bytes on in pieces that end at a line break, checking that each is UTF-8. Cutting at
 * LF is safe: 0x0A never occurs inside a multi-byte character. At the first invalid bytes it stops
 * after the last good line (so every row before it is still read) and records why in `failure`.
 */
class Utf8LineSource {
  failure: string | undefined;
  private readonly iterator: AsyncIterator<Uint8Array>;
  private carry: Buffer = Buffer.alloc(0);
  private started = false;
  private done = false;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.iterator = input[Symbol.asyncIterator]();
  }

  /** The first piece with at least one whole line (or the whole file), BOM removed; undefined for an empty file. */
  async firstLines(): Promise<Buffer | undefined> {
    for (;;) {
      const piece = await this.next();
      if (piece === undefined) return undefined;
      if (piece.length > 0) return piece;
    }
  }

  async *rest(first: Buffer): AsyncGenerator<Buffer> {
    try {
      yield first;
      for (;;) {
        const piece = await this.next();
        if (piece === undefined) return;
        if (piece.length > 0) yield piece;
      }
    } finally {
      // The reader stopped early (or failed): close the file or download behind it.
      if (!this.done) this.close();
    }
  }

  private async next(): Promise<Buffer | undefined> {
    if (this.done) return undefined;
    const { value, done } = await this.iterator.next();
    if (done) {
      this.done = true;
      const last = this.carry;
      this.carry = Buffer.alloc(0);
      return last.length === 0 ? undefined : this.checked(last);
    }
    let bytes = Buffer.concat([this.carry, Buffer.from(value.buffer, value.byteOffset, value.byteLength)]);
    if (!this.started) {
      if (bytes.length < 3 && bytes.length > 0) {
        this.carry = bytes;
        return Buffer.alloc(0);
      }
      this.started = true;
      if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return this.fail(UTF16_TEXT);
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    const cut = bytes.lastIndexOf(LF) + 1;
    if (cut === 0 && bytes.length < MAX_CARRY_BYTES) {
      this.carry = bytes;
      return Buffer.alloc(0);
    }
    const end = cut === 0 ? characterBoundary(bytes) : cut;
    this.carry = Buffer.from(bytes.subarray(end));
    return this.checked(bytes.subarray(0, end));
  }

  private checked(piece: Buffer): Buffer | undefined {
    if (isUtf8(piece)) return piece;
    // Keep the whole lines before the first bad one, then stop.
    let start = 0;
    for (;;) {
      const lf = piece.indexOf(LF, start);
      const end = lf === -1 ? piece.length : lf + 1;
      if (!isUtf8(piece.subarray(start, end))) break;
      start = end;
    }
    this.fail(NOT_UTF8_TEXT);
    return start === 0 ? undefined : piece.subarray(0, start);
  }

  private fail(message: string): undefined {
    this.failure = message;
    this.close();
    return undefined;
  }

  private close() {
    this.done = true;
    Promise.resolve(this.iterator.return?.()).catch(() => undefined);
  }
}

/** Where `bytes` can be cut without splitting a UTF-8 character (before an incomplete one at the end). */
function characterBoundary(bytes: Buffer): number {
  let lead = bytes.length - 1;
  while (lead > 0 && bytes.length - lead < 4 && (bytes[lead]! & 0xc0) === 0x80) lead -= 1;
  const byte = bytes[lead]!;
  const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return bytes.length - lead < needed ? lead : bytes.length;
}
