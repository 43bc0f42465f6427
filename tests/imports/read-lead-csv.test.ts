import { describe, expect, it } from 'vitest';
import { CsvFileError, EMPTY_FILE_TEXT, NOT_UTF8_TEXT, normalizeHeader, readLeadCsv, UTF16_TEXT, type CsvHeader, type LeadCsvRow } from '../../src/modules/imports/read-lead-csv.ts';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** 山田 in Shift_JIS, as Japanese Excel saves a plain "CSV". */
const SHIFT_JIS_YAMADA = Buffer.from([0x8e, 0x52, 0x93, 0x63]);

/** Feeds the bytes in small pieces, so characters and rows are split across chunks as they are in a real stream. */
async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function read(content: string | Buffer, chunkSize = 7): Promise<{ rows: LeadCsvRow[]; header?: CsvHeader }> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const rows: LeadCsvRow[] = [];
  let header: CsvHeader | undefined;
  for await (const row of readLeadCsv(pieces(bytes, chunkSize), { onHeader: (h) => (header = h) })) rows.push(row);
  return { rows, header };
}

async function refusal(content: string | Buffer): Promise<CsvFileError> {
  const error = await read(content).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CsvFileError);
  return error as CsvFileError;
}

describe('readLeadCsv', () => {
  it('reads a Japanese Excel export: BOM, CRLF, Japanese headers and names, quoted commas, quotes and line breaks', async () => {
    const csv = Buffer.concat([
      BOM,
      Buffer.from(
        'メールアドレス,姓,名,会社名,役職,Plan\r\n' +
          'yamada@example.jp,山田,太郎,"株式会社テスト, 東京",部長,Gold\r\n' +
          'suzuki@example.jp,鈴木,一郎,"He said ""hi""","Head of\r\nSales",\r\n',
      ),
    ]);
    for (const chunkSize of [1, 5, 64 * 1024]) {
      const { rows, header } = await read(csv, chunkSize);
      expect(header?.columns.map((column) => [column.header, column.field])).toEqual([
        ['メールアドレス', 'email'],
        ['姓', 'last_name'],
        ['名', 'first_name'],
        ['会社名', 'company'],
        ['役職', 'title'],
        ['Plan', undefined],
      ]);
      expect(rows).toEqual([
        { row: 2, lead: { email: 'yamada@example.jp', last_name: '山田', first_name: '太郎', company: '株式会社テスト, 東京', title: '部長', attributes: { Plan: 'Gold' } } },
        // A cell with a line break is still one row, as a spreadsheet shows it.
        { row: 3, lead: { email: 'suzuki@example.jp', last_name: '鈴木', first_name: '一郎', company: 'He said "hi"', title: 'Head of\r\nSales' } },
      ]);
    }
  });

  it('maps header spellings to lead fields and keeps the rest as attributes under their own names', async () => {
    const { header, rows } = await read(
      'E-Mail Address,First_Name,SURNAME,Organization,Job Title,Industry,Buying Stage,Lead Source,Time-Zone,Language,Owner,Consent At,consent_source, Favourite Colour \n' +
        'a@example.com,Ann,Lee,Acme,CTO,Manufacturing,Consideration,webinar,Asia/Tokyo,ja-JP,U024BE7LH,2026-11-01T09:00:00Z,form,blue\n',
    );
    expect(header?.columns.map((column) => column.field ?? `attribute:${column.header}`)).toEqual([
      'email', 'first_name', 'last_name', 'company', 'title', 'industry', 'stage', 'source', 'time_zone', 'locale', 'owner', 'consent_at', 'consent_source',
      'attribute:Favourite Colour',
    ]);
    expect(rows[0]).toMatchObject({ row: 2, lead: { stage: 'consideration', attributes: { 'Favourite Colour': 'blue' } } });
    expect(normalizeHeader('Ｅメール　アドレス')).toBe(normalizeHeader('eメールアドレス'));
  });

  it('leaves blank cells out (they never wipe what is known) and skips blank rows without renumbering', async () => {
    const { rows } = await read('email,company,Plan\na@example.com,,\n\n,,\nb@example.com,Acme,  \n');
    expect(rows).toEqual([
      { row: 2, lead: { email: 'a@example.com' } },
      { row: 5, lead: { email: 'b@example.com', company: 'Acme' } },
    ]);
  });

  it('reports rows with too few or too many cells by row number and reads on', async () => {
    const { rows } = await read('email,first name,last name\na@example.com,Ann\nb@example.com,Bo,Li,extra\nc@example.com,Cy,Wu,,\n');
    expect(rows).toEqual([
      { row: 2, email: 'a@example.com', problem: 'row 2 has 2 columns, the header has 3 (a missing or extra comma, or a quote not closed?)' },
      { row: 3, email: 'b@example.com', problem: 'row 3 has 4 columns, the header has 3 (a missing or extra comma, or a quote not closed?)' },
      // Extra cells that are empty are a spreadsheet's trailing commas, not a problem.
      { row: 4, lead: { email: 'c@example.com', first_name: 'Cy', last_name: 'Wu' } },
    ]);
  });

  it('reports a quote that is never closed at its row, after the rows before it', async () => {
    const { rows } = await read('email,company\na@example.com,Acme\nb@example.com,"Broken\nc@example.com,Fine\n');
    expect(rows).toEqual([
      { row: 2, lead: { email: 'a@example.com', company: 'Acme' } },
      {
        row: 3,
        problem: 'a quoted cell in row 3 is never closed (a stray " character?), so the rest of the file was read as one cell: nothing from row 3 on was imported',
      },
    ]);
  });

  it('keeps a stray quote inside a cell as text', async () => {
    const { rows } = await read('email,product\na@example.com,27" monitor\n');
    expect(rows).toEqual([{ row: 2, lead: { email: 'a@example.com', attributes: { product: '27" monitor' } } }]);
  });

  it('reads semicolon- and tab-separated files (European Excel, "Unicode text")', async () => {
    expect((await read('email;company\na@example.com;Acme, Inc\n')).rows).toEqual([{ row: 2, lead: { email: 'a@example.com', company: 'Acme, Inc' } }]);
    expect((await read('email\tcompany\na@example.com\tAcme\n')).rows).toEqual([{ row: 2, lead: { email: 'a@example.com', company: 'Acme' } }]);
  });

  it('refuses a file without an email column, listing the headers it found', async () => {
    const error = await refusal('Name,Company,電話\nAnn,Acme,03-0000\n');
    expect(error.message).toBe(
      'there is no email column. The first row should name the columns; I found “Name”, “Company”, “電話”. Name the column with the addresses “email”.',
    );
    expect(error.row).toBe(1);
  });

  it('refuses Shift_JIS and UTF-16 files with what to do instead', async () => {
    const sjisHeader = await refusal(Buffer.concat([Buffer.from('email,'), SHIFT_JIS_YAMADA, Buffer.from('\na@example.com,x\n')]));
    expect(sjisHeader.message).toBe(NOT_UTF8_TEXT);
    expect(sjisHeader.message).toContain('Save As → “CSV UTF-8');
    expect((await refusal(Buffer.from([0xff, 0xfe, 0x65, 0x00, 0x6d, 0x00]))).message).toBe(UTF16_TEXT);
  });

  it('stops at the first row that is not UTF-8, after yielding every row before it', async () => {
    const csv = Buffer.concat([Buffer.from('email,last name\na@example.com,Lee\nb@example.com,'), SHIFT_JIS_YAMADA, Buffer.from('\nc@example.com,Wu\n')]);
    const rows: LeadCsvRow[] = [];
    const error = await (async () => {
      for await (const row of readLeadCsv(pieces(csv, 4))) rows.push(row);
    })().then(
      () => undefined,
      (thrown: unknown) => thrown as CsvFileError,
    );
    expect(rows).toEqual([{ row: 2, lead: { email: 'a@example.com', last_name: 'Lee' } }]);
    expect(error).toBeInstanceOf(CsvFileError);
    expect(error).toMatchObject({ message: NOT_UTF8_TEXT, row: 3 });
  });

  it('refuses an empty file, a blank header and two columns meaning the same field', async () => {
    expect((await refusal('')).message).toBe(EMPTY_FILE_TEXT);
    expect((await refusal(BOM)).message).toBe(EMPTY_FILE_TEXT);
    expect((await refusal(',,\na@example.com,,\n')).message).toMatch(/^row 1 is empty/);
    expect((await refusal('Email,E-mail\n')).message).toBe('the columns “Email” and “E-mail” both mean email: keep one of them');
  });

  it('stops reading (and closes the source) when the consumer stops early', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        yield Buffer.from('email\n');
        for (let i = 0; ; i += 1) yield Buffer.from(`lead${i}@example.com\n`);
      } finally {
        closed = true;
      }
    }
    let seen = 0;
    for await (const row of readLeadCsv(endless())) {
      expect(row).toHaveProperty('lead');
      if (++seen === 3) break;
    }
    expect(closed).toBe(true);
  });
});
