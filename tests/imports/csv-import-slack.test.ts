import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_REQUIRED_TEXT } from '../../src/modules/imports/register-import.ts';
import { ActionIds, CallbackIds } from '../../src/slack/ids.ts';
import type { RecordedCall } from '../support/fake-slack.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const BOM = '\uFEFF';
/** 山田 in Shift_JIS: what a plain "CSV" from Japanese Excel contains. */
const SHIFT_JIS_YAMADA = Buffer.from([0x8e, 0x52, 0x93, 0x63]);

/** A Japanese Excel "CSV UTF-8" export with the usual trouble: a broken row and an address that is not one. */
const MESSY_CSV =
  BOM +
  'メールアドレス,姓,名,会社名,役職,Plan,Notes\r\n' +
  'yamada@example.jp,山田,太郎,"株式会社テスト, 東京",部長,Gold,"likes ""quotes"", and commas"\r\n' +
  'SATO@Example.JP,佐藤,花子,株式会社サンプル,,Silver,\r\n' +
  'broken@example.jp,Broken,Row\r\n' +
  'not-an-email,Bad,Address,Acme,,,\r\n' +
  'lee@example.com,Lee,Ann,"Multi\r\nLine Inc",CTO,,\r\n';

describe('CSV import from Slack', () => {
  let app: TestApp;
  const MARKETER = 'U0MARK';
  const REP = 'U0REP';

  beforeAll(async () => {
    app = await startTestApp({ role: 'all' });
    app.addUser({ id: 'U0OWNER', name: 'olga', isOwner: true });
    app.addUser({ id: MARKETER, name: 'mari' });
    app.addUser({ id: REP, name: 'ren' });
    await app.command('U0OWNER', `roles add <@${MARKETER}|mari> marketer`);
    await app.command('U0OWNER', `roles add <@${REP}|ren> rep`);
  });
  afterAll(() => app.stop());

  /** `/nurture import` as the person; resolves with the id of the modal Slack showed. */
  async function openImportModal(userId: string): Promise<{ viewId: string; view: Record<string, unknown> }> {
    const triggerId = app.slack.newTriggerId();
    const result = await app.requests.command({ teamId: app.slack.teamId, userId, channelId: 'C0GENERAL', text: 'import', responseUrl: app.slack.responseUrl(), triggerId });
    expect(result.status).toBe(200);
    const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
    const view = opened.response.view as Record<string, unknown>;
    return { viewId: view.id as string, view };
  }

  /** Uploads the file in the modal and submits it; resolves with Slack's ack body. */
  async function submitImport(userId: string, file: { name: string; content: string | Buffer }, values: { source?: string } = {}) {
    const uploaded = app.slack.addFile({ name: file.name, content: file.content, userId });
    const { viewId } = await openImportModal(userId);
    const ack = await app.interaction(
      app.slack.viewSubmission({
        viewId,
        userId,
        values: { import_file: [uploaded.id], import_source: values.source ?? null, import_consent: ['agreed'] },
      }),
    );
    return { ack, file: uploaded };
  }

  /** The DM the person gets when the job is done (the first one naming the file after `since`). */
  async function resultDm(userId: string, fileName: string, since = 0): Promise<string> {
    const call = await app.slack.waitForCall(
      'chat.postMessage',
      (candidate) => candidate.args.channel === userId && String(candidate.args.text).includes(fileName) && candidate.at.getTime() >= since,
      { timeoutMs: 15_000 },
    );
    return messageText(call);
  }

  it('/nurture import opens a form with a CSV file input, a source and the consent confirmation', async () => {
    const { view } = await openImportModal(MARKETER);
    expect(view).toMatchObject({ type: 'modal', callback_id: CallbackIds.importModal, title: { text: 'Import leads' }, submit: { text: 'Import' } });
    const elements = (view.blocks as Array<{ type: string; element?: Record<string, unknown>; optional?: boolean }>).filter((block) => block.type === 'input');
    expect(elements.map((block) => [block.element?.type, block.optional ?? false])).toEqual([
      ['file_input', false],
      ['plain_text_input', true],
      ['checkboxes', false],
    ]);
    expect(elements[0]!.element).toMatchObject({ action_id: ActionIds.importFileInput, filetypes: ['csv'], max_files: 1 });
    expect(JSON.stringify(elements[2]!.element)).toContain('agreed to receive email');
  });

  it('imports the good rows of a messy Japanese CSV and names the bad rows by number and reason', async () => {
    const started = Date.now();
    const { ack, file } = await submitImport(MARKETER, { name: 'leads-ja.csv', content: MESSY_CSV }, { source: 'tokyo-expo' });
    expect(JSON.stringify(ack)).toContain('Importing *leads-ja.csv*');

    const dm = await resultDm(MARKETER, 'leads-ja.csv', started);
    expect(dm).toContain(':warning: Imported *leads-ja.csv*, with problems');
    expect(dm).toContain('5 rows read: *3* new leads, *0* updated, *0* unchanged, *2* not imported.');
    expect(dm).toContain('• Row 4 (broken@example.jp): row 4 has 3 columns, the header has 7');
    expect(dm).toContain('• Row 5 (not-an-email): email is not a valid address');
    expect(dm).toContain('“メールアドレス” → email, “姓” → last_name, “名” → first_name, “会社名” → company, “役職” → title');
    expect(dm).toContain('kept as custom attributes: “Plan”, “Notes”');

    const leads = await app.db.sql`
      SELECT email, first_name, last_name, company, title, source, attributes, consent_source, consent_at IS NOT NULL AS consented
      FROM leads WHERE team_id = ${app.slack.teamId} ORDER BY email`;
    expect(leads).toEqual([
      { email: 'lee@example.com', first_name: 'Ann', last_name: 'Lee', company: 'Multi\r\nLine Inc', title: 'CTO', source: 'tokyo-expo', attributes: {}, consent_source: `csv import by <@${MARKETER}> (leads-ja.csv)`, consented: true },
      { email: 'sato@example.jp', first_name: '花子', last_name: '佐藤', company: '株式会社サンプル', title: null, source: 'tokyo-expo', attributes: { Plan: 'Silver' }, consent_source: `csv import by <@${MARKETER}> (leads-ja.csv)`, consented: true },
      {
        email: 'yamada@example.jp', first_name: '太郎', last_name: '山田', company: '株式会社テスト, 東京', title: '部長', source: 'tokyo-expo',
        attributes: { Plan: 'Gold', Notes: 'likes "quotes", and commas' }, consent_source: `csv import by <@${MARKETER}> (leads-ja.csv)`, consented: true,
      },
    ]);
    // The file was fetched with the bot token, not through a sign-in page.
    expect(app.slack.downloads.filter((download) => download.fileId === file.id)).toEqual([expect.objectContaining({ authorized: true })]);
  });

  it('importing again updates rather than duplicates, and keeps the consent already recorded', async () => {
    const [before] = await app.db.sql<{ consent_at: Date }[]>`SELECT consent_at FROM leads WHERE email = 'yamada@example.jp'`;
    const started = Date.now();
    await submitImport(MARKETER, { name: 'leads-ja-again.csv', content: MESSY_CSV.replace('部長', '取締役') });
    const dm = await resultDm(MARKETER, 'leads-ja-again.csv', started);
    expect(dm).toContain('5 rows read: *0* new leads, *1* updated, *2* unchanged, *2* not imported.');
    const [after] = await app.db.sql<{ consent_at: Date; title: string; count: number }[]>`
      SELECT consent_at, title, (SELECT count(*)::int FROM leads) AS count FROM leads WHERE email = 'yamada@example.jp'`;
    expect(after).toEqual({ consent_at: before!.consent_at, title: '取締役', count: 3 });
  });

  it('a file without an email column is refused with the headers it has', async () => {
    const started = Date.now();
    await submitImport(MARKETER, { name: 'no-email.csv', content: 'Name,Company\r\nAnn Lee,Acme\r\n' });
    expect(await resultDm(MARKETER, 'no-email.csv', started)).toBe(
      ':x: I couldn’t import *no-email.csv*: there is no email column. The first row should name the columns; I found “Name”, “Company”. Name the column with the addresses “email”. Nothing was imported.',
    );
  });

  it('a Shift_JIS file is refused with how to save it as UTF-8', async () => {
    const started = Date.now();
    const content = Buffer.concat([Buffer.from('email,last name\r\nyamada@example.jp,'), SHIFT_JIS_YAMADA, Buffer.from('\r\n')]);
    await submitImport(MARKETER, { name: 'excel.csv', content });
    expect(await resultDm(MARKETER, 'excel.csv', started)).toBe(
      ':x: I couldn’t import *excel.csv*: the file is not UTF-8 — in Excel use Save As → “CSV UTF-8 (Comma delimited)”, then import that file (row 2). Nothing was imported.',
    );
  });

  it('the form refuses a submission without the consent confirmation, beside the checkbox', async () => {
    const file = app.slack.addFile({ name: 'unconfirmed.csv', content: 'email\na@example.com\n' });
    const { viewId } = await openImportModal(MARKETER);
    const payload = app.slack.viewSubmission({ viewId, userId: MARKETER, values: { import_file: [file.id], import_consent: ['agreed'] } });
    // Slack's client would not submit an empty required checkbox; a crafted request still must not get through.
    (payload.view as { state: { values: Record<string, Record<string, { selected_options: unknown[] }>> } }).state.values.import_consent![ActionIds.importConsentInput]!.selected_options = [];
    expect(await app.interaction(payload)).toEqual({ response_action: 'errors', errors: { import_consent: CONSENT_REQUIRED_TEXT } });
  });

  it('a rep is told that importing needs the marketer role, and no form opens', async () => {
    const { reply, triggerId } = await app.command(REP, 'import');
    expect(replyText(reply.body)).toBe(
      'Importing leads needs one of these roles: *marketer*. Ask a Slack workspace owner or admin to grant it: `/nurture roles add @you marketer`.',
    );
    expect(app.slack.callsTo('views.open').some((call) => call.args.trigger_id === triggerId)).toBe(false);
  });
});

/** What the person reads in a message: its blocks' text (sections and context), else the fallback text. */
function messageText(call: RecordedCall): string {
  const blocks = (call.args.blocks as Array<{ text?: { text?: string }; elements?: Array<{ text?: string }> }> | undefined) ?? [];
  if (blocks.length === 0) return String(call.args.text ?? '');
  return blocks.map((block) => block.text?.text ?? (block.elements ?? []).map((element) => element.text ?? '').join(' ')).join('\n');
}
