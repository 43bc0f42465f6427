import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_PAGE_SIZE } from '../../src/modules/segments/export-segment-csv.ts';
import { csvCell } from '../../src/modules/segments/segment-csv.ts';
import type { RecordedUpload } from '../support/fake-slack.ts';
import { insertLead } from '../support/factories.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

let app: TestApp;
const OWNER = 'U0OWNER';
const MARKETER = 'U0MARK';
const BIG_TEAM = 'T0BIGTEAM';
const HEADER = 'email,first_name,last_name,company,title,stage,status\r\n';
const BOM = '\uFEFF';
const today = new Date().toISOString().slice(0, 10);

const say = async (userId: string, text: string, teamId?: string) => replyText((await app.command(userId, text, teamId ? { teamId } : {})).reply.body);

/** The CSV that reached Slack for this file name. */
async function uploaded(filename: string): Promise<RecordedUpload & { content: Buffer }> {
  await app.slack.waitForCall('files.completeUploadExternal', () => app.slack.uploads.some((upload) => upload.filename === filename && upload.completed), { timeoutMs: 15_000 });
  return app.slack.uploads.find((upload) => upload.filename === filename) as RecordedUpload & { content: Buffer };
}

beforeAll(async () => {
  app = await startTestApp();
  app.addUser({ id: OWNER, isOwner: true });
  app.addUser({ id: MARKETER, name: 'mari' });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
  const team = app.slack.teamId;
  const sql = app.db.sql;
  await insertLead(sql, team, { email: 'formula@kojo.example', first_name: '=HYPERLINK("http://evil.example")', company: 'Acme, "Inc"', title: 'VP Ops', industry: 'manufacturing' });
  await insertLead(sql, team, { email: 'gone@kojo.example', title: 'VP Gone', industry: 'manufacturing', status: 'unsubscribed' });
  await insertLead(sql, team, { email: 'engineer@kojo.example', title: 'Engineer', industry: 'manufacturing' });
  await insertLead(sql, team, { email: 'yamada@kojo.example', first_name: '太郎', last_name: '山田', company: '株式会社工場\nTokyo', title: 'VP 製造', industry: 'manufacturing', stage: 'decision' });
  await insertLead(sql, 'T0OTHERTEAM', { email: 'vp@other.example', title: 'VP Other', industry: 'manufacturing' });
  // A workspace with more leads than one page, to page through by keyset.
  await sql`INSERT INTO workspaces (team_id) VALUES (${BIG_TEAM})`;
  await sql`INSERT INTO leads (team_id, email, industry, status)
            SELECT ${BIG_TEAM}, 'big-' || g || '@example.com', 'manufacturing', CASE WHEN g % 50 = 0 THEN 'bounced' ELSE 'subscribed' END
            FROM generate_series(1, ${2 * EXPORT_PAGE_SIZE + 100}) AS g`;
});
afterAll(() => app.stop());

describe('/nurture segment export', () => {
  it('sends the audience as a CSV to the person’s DM: exactly its subscribed leads, escaped and safe for spreadsheets', async () => {
    await say(MARKETER, 'segment new "Mfg VPs" industry:manufacturing title~VP');
    expect(await say(MARKETER, 'segment export mfg vps')).toBe(':hourglass_flowing_sand: Exporting *Mfg VPs*. I’ll send you the CSV as a direct message when it is ready.');

    const file = await uploaded(`Mfg VPs ${today}.csv`);
    expect(file.content.toString('utf8')).toBe(
      BOM +
        HEADER +
        `formula@kojo.example,"'=HYPERLINK(""http://evil.example"")",,"Acme, ""Inc""",VP Ops,awareness,subscribed\r\n` +
        `yamada@kojo.example,太郎,山田,"株式会社工場\nTokyo",VP 製造,decision,subscribed\r\n`,
    );
    const dm = app.slack.callsTo('chat.postMessage').find((call) => call.args.channel === MARKETER && String(call.args.text).includes('as a CSV'));
    expect(dm?.args.text).toBe(
      ':page_facing_up: *Mfg VPs* as a CSV: 2 leads (subscribed leads only: unsubscribed, bounced and complained leads are never sent to). It holds personal data: share it only with people who need it.',
    );
    // Shared in the DM the message went to (files.completeUploadExternal takes no user ids).
    expect(file.channelId).toBe(dm?.response.channel);
    const audit = await waitFor(async () => (await app.db.sql`SELECT actor_user_id, action, details FROM audit_log WHERE action = 'segment.exported'`)[0]);
    expect(audit).toEqual({ actor_user_id: MARKETER, action: 'segment.exported', details: { name: 'Mfg VPs', rows: 2 } });
  });

  it('pages through an audience larger than one page, and only its own workspace’s leads', async () => {
    await say(OWNER, 'segment new Everyone industry:manufacturing', BIG_TEAM);
    await say(OWNER, 'segment export Everyone', BIG_TEAM);
    const file = await uploaded(`Everyone ${today}.csv`);
    const lines = file.content.toString('utf8').slice(BOM.length).split('\r\n');
    expect(lines[0]).toBe(HEADER.trimEnd());
    expect(lines.at(-1)).toBe('');
    const emails = lines.slice(1, -1).map((line) => line.split(',')[0]);
    const expected = Array.from({ length: 2 * EXPORT_PAGE_SIZE + 100 }, (_, i) => i + 1).filter((g) => g % 50 !== 0).map((g) => `big-${g}@example.com`);
    expect(emails).toEqual(expected);
  });

  it('is refused to people without the marketer role, before anything is queued', async () => {
    app.addUser({ id: 'U0NOBODY' });
    expect(await say('U0NOBODY', 'segment export "Mfg VPs"')).toMatch(/^Exporting a segment needs one of these roles: \*marketer\*/);
    expect(await say(MARKETER, 'segment export Nope')).toBe('There is no segment called "Nope". `/nurture segment list` shows them.');
    const [jobs] = await app.db.sql`SELECT count(*)::int AS count FROM pgboss.job WHERE name = 'segments.export-csv'`;
    expect(jobs).toEqual({ count: 2 });
  });
});

describe('CSV cells', () => {
  it('quote what needs quoting and defuse spreadsheet formulas', () => {
    expect(['plain', 'a,b', 'say "hi"', 'two\nlines', '=1+1', '+81 3', '-5', '@SUM(A1)', '\tx', '', null].map(csvCell)).toEqual([
      'plain',
      '"a,b"',
      '"say ""hi"""',
      '"two\nlines"',
      "'=1+1",
      "'+81 3",
      "'-5",
      "'@SUM(A1)",
      "'\tx",
      '',
      '',
    ]);
  });
});
