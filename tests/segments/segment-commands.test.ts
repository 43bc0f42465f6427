import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSegmentSizes, recordSegmentSizesQueue } from '../../src/modules/segments/record-segment-sizes-queue.ts';
import { SEGMENT_USAGE_FINDERS, type SegmentUsageFinder } from '../../src/modules/segments/segment-usages.ts';
import { QUEUES } from '../../src/queue/queues.ts';
import { ActionIds } from '../../src/slack/ids.ts';
import { daysAgo, insertEvent, insertLead } from '../support/factories.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
const OWNER = 'U0OWNER';
const MARKETER = 'U0MARK';
const REP = 'U0REP';
const NOBODY = 'U0NOBODY';
const OTHER_TEAM = 'T0OTHERTEAM';
const now = new Date();
const isoDay = (date: Date) => date.toISOString().slice(0, 10);

const say = async (userId: string, text: string, teamId?: string) => replyText((await app.command(userId, text, teamId ? { teamId } : {})).reply.body);

beforeAll(async () => {
  app = await startTestApp();
  app.addUser({ id: OWNER, isOwner: true });
  app.addUser({ id: MARKETER, name: 'mari' });
  app.addUser({ id: REP, name: 'ren' });
  app.addUser({ id: NOBODY, name: 'nobu' });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
  await app.command(OWNER, `roles add <@${REP}|ren> rep`);
  const team = app.slack.teamId;
  const sql = app.db.sql;
  const ops = await insertLead(sql, team, { email: 'vp.ops@kojo.example', first_name: 'Hana', last_name: 'Sato', company: 'Kojo <!here>', title: 'VP Operations', industry: 'manufacturing', stage: 'consideration' });
  await insertLead(sql, team, { email: 'vp.sales@kojo.example', title: 'VP Sales', industry: 'manufacturing', stage: 'decision' });
  await insertLead(sql, team, { email: 'engineer@kojo.example', title: 'Engineer', industry: 'manufacturing', stage: 'awareness' });
  await insertLead(sql, team, { email: 'gone@kojo.example', title: 'VP Quality', industry: 'manufacturing', status: 'bounced' });
  await insertEvent(sql, team, ops.id, { name: 'page_view', url_path: '/pricing', occurred_at: daysAgo(now, 3) });
  // The same kind of lead in another workspace: never counted, shown or listed here.
  await insertLead(sql, OTHER_TEAM, { email: 'vp@other.example', title: 'VP Other', industry: 'manufacturing', stage: 'consideration' });
});
afterAll(() => app.stop());

describe('/nurture segment in text', () => {
  it('creates a segment from a typed rule and answers with what it means, its size and recent leads', async () => {
    const text = await say(MARKETER, 'segment new "Mfg VPs" industry:manufacturing title~VP');
    expect(text).toContain(
      ':white_check_mark: Created the segment *Mfg VPs*: industry is "manufacturing" and title contains "VP".\n*2 leads* match right now (subscribed leads only: unsubscribed, bounced and complained leads are never sent to).',
    );
    expect(text).toContain('• Hana Sato · VP Operations, Kojo &lt;!here&gt; · vp.ops@kojo.example · consideration');
    expect(text).toContain('• vp.sales@kojo.example · VP Sales · decision');
    expect(text).not.toContain('gone@kojo.example');
    expect(text).not.toContain('vp@other.example');
  });

  it('points at the token that could not be read', async () => {
    expect(await say(MARKETER, 'segment new "Bad one" industry:manufacturing title~')).toBe('At `title~` (character 46): expected a value after `~`');
    expect(await say(MARKETER, 'segment new "Mfg VPs" stage:decision')).toBe(
      'There is already a segment called "Mfg VPs". Pick another name, or change that one with `/nurture segment edit`.',
    );
    expect(await say(MARKETER, 'segment new industry:manufacturing title~VP')).toBe(
      'Give the segment a name first, in quotes if it has spaces: `/nurture segment new "Mfg VPs" industry:manufacturing title~VP` (or `/nurture segment new` for the form).',
    );
    const [{ count }] = (await app.db.sql`SELECT count(*)::int AS count FROM segments`) as unknown as [{ count: number }];
    expect(count).toBe(1);
  });

  it('shows a segment to anyone: the rule in words, its size, recent leads, where it is used', async () => {
    const text = await say(NOBODY, 'segment show mfg vps');
    expect(text).toContain('*Who is in it*\nindustry is "manufacturing" and title contains "VP"');
    expect(text).toContain('*Size* — *2 leads* right now (subscribed leads only');
    expect(text).toContain('vp.ops@kojo.example');
    expect(text).toContain('*Used by* — not used yet.');
    expect(text).toContain(`Made by <@${MARKETER}>.`);
    expect(await say(NOBODY, 'segment show Nothing Here')).toBe('There is no segment called "Nothing Here". `/nurture segment list` shows them.');
  });

  it('notes that a reporting segment counts suppressed leads and sending never reaches them', async () => {
    await say(OWNER, 'segment new Bounced status:bounced');
    await app.db.sql`UPDATE segments SET include_suppressed = true WHERE name = 'Bounced'`;
    const text = await say(NOBODY, 'segment show Bounced');
    expect(text).toContain('*Size* — *1 lead* right now (reporting: unsubscribed, bounced and complained leads are counted too)');
    expect(text).toContain('Anything that sends to it still leaves them out.');
  });

  it('lists every segment with its size now, the change since last week (from the daily sizes) and who made it', async () => {
    const [mfg] = await app.db.sql<{ id: number }[]>`SELECT id FROM segments WHERE name = 'Mfg VPs'`;
    // Eight days ago it had 5 leads; today's size comes from the daily job (twice: idempotent per day).
    await app.db.sql`INSERT INTO segment_sizes (team_id, segment_id, measured_on, size) VALUES (${app.slack.teamId}, ${mfg!.id}, ${isoDay(daysAgo(now, 8))}, 5)`;
    await recordSegmentSizes(app.nurture.services, isoDay(now));
    await recordSegmentSizes(app.nurture.services, isoDay(now));
    const sizes = await app.db.sql`SELECT s.name, z.measured_on::text AS day, z.size FROM segment_sizes z JOIN segments s ON s.id = z.segment_id ORDER BY s.name, z.measured_on`;
    expect(sizes).toEqual([
      { name: 'Bounced', day: isoDay(now), size: 1 },
      { name: 'Mfg VPs', day: isoDay(daysAgo(now, 8)), size: 5 },
      { name: 'Mfg VPs', day: isoDay(now), size: 2 },
    ]);

    const text = await say(REP, 'segment list');
    expect(text).toContain('*Segments* (2) — size now and change since last week');
    expect(text).toContain(`• *Bounced* — 1 lead · new · reporting · by <@${OWNER}>`);
    expect(text).toContain(`• *Mfg VPs* — 2 leads · −3 since last week · by <@${MARKETER}>`);
  });

  it('runs the daily size job on a schedule', () => {
    expect(QUEUES).toContain(recordSegmentSizesQueue);
    expect(recordSegmentSizesQueue).toMatchObject({ name: 'segments.record-sizes', schedule: { cron: expect.any(String) } });
  });

  it('replaces a rule in text; a rule with "or" groups cannot be shown in the form, and says so', async () => {
    expect(await say(MARKETER, 'segment new Either industry:software or stage:decision')).toContain('Created the segment *Either*: industry is "software" or stage is "decision".\n*1 lead*');
    expect(await say(MARKETER, 'segment edit Either')).toBe(
      '*Either* was built as nested groups (with "or"), which the form cannot show. Replace its rule with the text form: `/nurture segment edit "Either" <rule>`, e.g. `/nurture segment edit "Either" industry:manufacturing stage:consideration` (`/nurture help segment` has the whole syntax).',
    );
    expect(await say(MARKETER, 'segment edit Either stage:awareness -title:*')).toContain('Changed the segment *Either*: stage is "awareness" and not (title is set).\n*0 leads*');
    const [stored] = await app.db.sql`SELECT rule, updated_by FROM segments WHERE name = 'Either'`;
    expect(stored).toEqual({
      rule: { type: 'all', rules: [{ type: 'field', field: 'stage', op: 'equals', value: 'awareness' }, { type: 'not', rule: { type: 'field', field: 'title', op: 'is_set' } }] },
      updated_by: MARKETER,
    });
  });

  it('has the rule syntax in /nurture help segment', async () => {
    const text = await say(NOBODY, 'help segment');
    expect(text).toContain('*segment* — who gets what');
    expect(text).toContain('*Writing a segment rule*');
  });
});

describe('/nurture segment delete', () => {
  const inUse: SegmentUsageFinder = async (sql, teamId, segmentId) => {
    const [segment] = await sql<{ name: string }[]>`SELECT name FROM segments WHERE team_id = ${teamId} AND id = ${segmentId}`;
    return segment?.name === 'Either' ? [{ kind: 'sequence', name: 'Onboarding', blocksDelete: true }] : [];
  };
  const withUsage = async <T>(run: () => Promise<T>): Promise<T> => {
    SEGMENT_USAGE_FINDERS.push(inUse);
    try {
      return await run();
    } finally {
      SEGMENT_USAGE_FINDERS.splice(SEGMENT_USAGE_FINDERS.indexOf(inUse), 1);
    }
  };
  const clickDelete = async (userId: string, segmentId: number) =>
    replyText((await app.clickMessageButton(userId, { actionId: ActionIds.segmentDeleteConfirm, value: String(segmentId) })).body);

  it('refuses while something active sends to the segment, and shows where it is used', async () => {
    const refusal = '"Either" is in use by the sequence "Onboarding", so deleting it would change who they reach. Stop or change those first.';
    await withUsage(async () => {
      expect(await say(MARKETER, 'segment delete Either')).toBe(refusal);
      expect(await say(NOBODY, 'segment show Either')).toContain('*Used by*\n• the sequence *Onboarding* · keeps it from being deleted');
    });
    // Confirmed before the sequence started, clicked after: refused at the click.
    const { reply } = await app.command(MARKETER, 'segment delete Either');
    expect(replyText(reply.body)).toContain('It cannot be undone.');
    const [either] = await app.db.sql<{ id: number }[]>`SELECT id FROM segments WHERE name = 'Either'`;
    expect(await withUsage(() => clickDelete(MARKETER, either!.id))).toBe(refusal);
    expect(await app.db.sql`SELECT 1 FROM segments WHERE name = 'Either'`).toHaveLength(1);
  });

  it('deletes after the confirmation click, and only for marketers and admins', async () => {
    const { reply } = await app.command(MARKETER, 'segment delete Either');
    const body = JSON.stringify(reply.body);
    expect(body).toContain(ActionIds.segmentDeleteConfirm);
    expect(body).toContain('"confirm":{"title":{"type":"plain_text","text":"Delete for good?"}');
    const [either] = await app.db.sql<{ id: number }[]>`SELECT id FROM segments WHERE name = 'Either'`;
    expect(await clickDelete(REP, either!.id)).toMatch(/^Deleting segments needs one of these roles: \*marketer\*/);
    expect(await clickDelete(MARKETER, either!.id)).toBe('Deleted the segment *Either*.');
    expect(await app.db.sql`SELECT 1 FROM segments WHERE name = 'Either'`).toHaveLength(0);
    const [audit] = await app.db.sql`SELECT actor_user_id, action FROM audit_log WHERE action = 'segment.deleted'`;
    expect(audit).toEqual({ actor_user_id: MARKETER, action: 'segment.deleted' });
    expect(await clickDelete(MARKETER, either!.id)).toBe('That button is no longer valid: the segment is gone. `/nurture segment list` shows the segments there are.');
  });
});

describe('who may do what with segments', () => {
  it('lets only marketers and admins build, change, delete and export; everyone lists and looks', async () => {
    const needsMarketer = (what: string) => new RegExp(`^${what} needs one of these roles: \\*marketer\\*`);
    const opens = app.slack.callsTo('views.open').length;
    expect(await say(REP, 'segment new')).toMatch(needsMarketer('Building segments'));
    expect(await say(REP, 'segment new "Reps" stage:decision')).toMatch(needsMarketer('Building segments'));
    expect(await say(REP, 'segment edit "Mfg VPs"')).toMatch(needsMarketer('Changing segments'));
    expect(await say(NOBODY, 'segment delete "Mfg VPs"')).toMatch(needsMarketer('Deleting segments'));
    expect(await say(REP, 'segment export "Mfg VPs"')).toMatch(needsMarketer('Exporting a segment'));
    expect(app.slack.callsTo('views.open')).toHaveLength(opens);
    expect(await app.db.sql`SELECT 1 FROM segments WHERE name = 'Reps'`).toHaveLength(0);
    expect(await say(NOBODY, 'segment list')).toContain('*Mfg VPs*');
    expect(await say(NOBODY, 'segment')).toContain('*Mfg VPs*');
    expect(await say(NOBODY, 'segment frobnicate')).toMatch(/^I can `list`, `show`, `new`, `edit`, `delete` or `export` segments/);
  });
});

describe('segments and workspaces', () => {
  it('never shows or counts another workspace’s segments or leads', async () => {
    expect(await say(OWNER, 'segment list', OTHER_TEAM)).toBe(
      'There are no segments yet. Marketers create them with `/nurture segment new` (a form) or `/nurture segment new "Name" <rule>`.',
    );
    expect(await say(OWNER, 'segment show "Mfg VPs"', OTHER_TEAM)).toBe('There is no segment called "Mfg VPs". `/nurture segment list` shows them.');
    // The same name and rule in the other workspace: its own lead only.
    const created = await say(OWNER, 'segment new "Mfg VPs" industry:manufacturing title~VP', OTHER_TEAM);
    expect(created).toContain('*1 lead* match right now');
    expect(created).toContain('vp@other.example');
    expect(created).not.toContain('kojo.example');
    expect(await say(NOBODY, 'segment show "Mfg VPs"')).not.toContain('vp@other.example');
  });
});
