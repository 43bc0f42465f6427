import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateWorkspaceSettings } from '../../src/modules/workspaces/settings.ts';
import { ActionIds } from '../../src/slack/ids.ts';
import { insertLead, insertSend } from '../support/factories.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { createSegment, createSequence, createTemplate, MARKETER, NOBODY, openModal, REP, say, setUpWorkspace, step } from './slack-support.ts';

let app: TestApp;
let team: string;
let thankYou: number;
let caseStudy: number;
let pricing: number;
const OTHER_TEAM = 'T0OTHERTEAM';

beforeAll(async () => {
  app = await startTestApp();
  team = app.slack.teamId;
  await setUpWorkspace(app);
  thankYou = await createTemplate(app, 'Thank you', 'awareness');
  caseStudy = await createTemplate(app, 'Case study', 'consideration');
  pricing = await createTemplate(app, 'Pricing', 'decision');
});
afterAll(() => app.stop());

const statusOf = async (id: number) => (await app.db.sql`SELECT status FROM sequences WHERE id = ${id}`)[0]!.status as string;
const setStatus = (id: number, status: string) => app.db.sql`UPDATE sequences SET status = ${status} WHERE id = ${id}`;
/** A lead in the sequence now, as enrollment leaves them. */
const insertRun = async (sequenceId: number, leadId: number, fields: Record<string, unknown> = {}) => {
  const [row] = await app.db.sql<{ id: number }[]>`
    INSERT INTO sequence_runs ${app.db.sql({ team_id: team, sequence_id: sequenceId, lead_id: leadId, enrolled_by: MARKETER, enrolled_at: new Date(), ...fields } as never)} RETURNING id`;
  return row!.id;
};
const click = async (userId: string, actionId: string, value: number) => replyText((await app.clickMessageButton(userId, { actionId, value: String(value) })).body);
const buttonsOf = (body: unknown) =>
  ((body as { blocks?: Array<{ type: string; elements?: Array<{ action_id: string; text: { text: string } }> }> }).blocks ?? [])
    .filter((block) => block.type === 'actions')
    .flatMap((block) => block.elements ?? [])
    .map((element) => `${element.action_id}: ${element.text.text}`);

describe('/nurture sequence list and show', () => {
  it('lists each sequence with its status, the people in it, and per step how many were sent, opened and clicked', async () => {
    const { id, stepIds } = await createSequence(app, { name: 'Whitepaper follow-up', trigger: { kind: 'event', name: 'resource_download', properties: { asset: 'whitepaper-x' } } }, [
      step(thankYou, 0),
      step(caseStudy, 3),
      step(pricing, 4),
    ]);
    await setStatus(id, 'active');
    await createSequence(app, { name: 'Pricing nudge' });
    const leads = await Promise.all([1, 2, 3, 4, 5, 6].map(() => insertLead(app.db.sql, team)));
    const [a, b, c, d, e, f] = leads.map((lead) => lead.id) as [number, number, number, number, number, number];
    const runA = await insertRun(id, a);
    const runB = await insertRun(id, b);
    await insertRun(id, c, { status: 'completed', ended_at: new Date() });
    const send = (leadId: number, runId: number, stepId: number, fields: Parameters<typeof insertSend>[3] = {}) =>
      insertSend(app.db.sql, team, leadId, { sourceKind: 'sequence', sourceId: id, runId, sourceStep: stepId, ...fields });
    const opened = new Date();
    // Step 1: four accepted or later (two opened, one clicked); a failure and one still queued don't count.
    await send(a, runA, stepIds[0]!, { state: 'delivered', openedAt: opened, clickedAt: opened });
    await send(b, runB, stepIds[0]!, { state: 'delivered', openedAt: opened });
    await send(c, 1, stepIds[0]!, { state: 'accepted' });
    await send(d, 2, stepIds[0]!, { state: 'bounced' });
    await send(e, 3, stepIds[0]!, { state: 'failed' });
    await send(f, 4, stepIds[0]!, { state: 'queued' });
    // Step 2: one, opened.
    await send(a, runA, stepIds[1]!, { state: 'accepted', openedAt: opened });
    // Step 3 sent once, then removed: its stats stay, marked.
    await send(c, 1, stepIds[2]!, { state: 'delivered', clickedAt: opened });
    await app.db.sql`UPDATE sequence_steps SET removed_at = now() WHERE id = ${stepIds[2]!}`;
    // A newsletter with the same number, and another workspace's sequence: not counted, not listed.
    await insertSend(app.db.sql, team, d, { sourceKind: 'newsletter', sourceId: id, state: 'delivered', openedAt: opened });
    await app.db.sql`INSERT INTO workspaces (team_id) VALUES (${OTHER_TEAM}) ON CONFLICT DO NOTHING`;
    await app.db.sql`INSERT INTO sequences (team_id, name, send_window, created_by, updated_by) VALUES (${OTHER_TEAM}, 'Secret sequence', '{"days":[1],"start":"09:00","end":"17:00"}', 'U0X', 'U0X')`;

    const { reply } = await app.command(NOBODY, 'sequence list');
    const text = replyText(reply.body);
    expect(text).toContain(
      [
        '• *Pricing nudge* — :memo: draft · 0 people in it now',
        '      _no steps yet_',
        '• *Whitepaper follow-up* — :large_green_circle: active · 2 people in it now',
        '      1. Thank you — sent 4 · opened 50% · clicked 25%',
        '      2. Case study — sent 1 · opened 100% · clicked 0%',
        '      – Pricing _(removed)_ — sent 1 · opened 0% · clicked 100%',
      ].join('\n'),
    );
    expect(text).not.toContain('Secret sequence');
  });

  it('shows one sequence: its timeline, trigger, window, sender and stats', async () => {
    const { id } = await createSequence(
      app,
      { name: 'Webinar invite', goal: 'Fill the November webinar', goalEvent: 'webinar_registered', senderName: 'Mari at Kojo', replyTo: 'mari@kojo.example', reenrollAfterDays: 90, sendWindow: { days: [2, 4], start: '10:00', end: '16:00', holidays: 'jp' } },
      [step(thankYou, 0), step(caseStudy, 2, { condition: { kind: 'previous_not_opened' } })],
    );
    const { reply } = await app.command(REP, 'sequence show "webinar invite"');
    const text = replyText(reply.body);
    expect(text).toContain(':memo: draft · 0 people in it now\n*Goal:* Fill the November webinar\n*Ends a lead\'s run when they do* `webinar_registered`');
    expect(text).toContain('*Timeline*\nDay 0 Thank you · Day 2 Case study');
    expect(text).toContain('*Starts when*\nsomeone enrolls a lead (`/nurture sequence enroll`)');
    expect(text).toContain('*Sends*\nTue, Thu 10:00–16:00 in the lead\'s own time zone, not on Japanese national holidays');
    expect(text).toContain('*From*\nMari at Kojo, replies to mari@kojo.example');
    expect(text).toContain('*Enrolls a lead again*\n90 days after their last run ended');
    expect(text).toContain('*2.* *Case study* _(consideration)_ — 2 days after the previous step · only if the previous email was not opened\n      nothing sent yet');
    expect(id).toBeGreaterThan(0);
  });

  it('finds sequences by quoted name, by words, or by a unique start, and lists the names otherwise', async () => {
    await createSequence(app, { name: 'Trial onboarding' });
    await createSequence(app, { name: 'Trial win-back' });
    expect(await say(app, REP, 'sequence show Webinar invite')).toContain('*Timeline*\nDay 0 Thank you');
    expect(await say(app, REP, 'sequence show webi')).toContain('*Timeline*\nDay 0 Thank you');
    expect(await say(app, REP, 'sequence show Trial')).toBe(
      '"Trial" is the start of several sequences: *Trial onboarding*, *Trial win-back*. Type more of the name, in quotes if it has spaces.',
    );
    const unknown = await say(app, REP, 'sequence show "Spring sale"');
    expect(unknown).toMatch(/^There is no sequence called "Spring sale"\. Sequences: .*\*Trial onboarding\*, \*Trial win-back\*.*\*Webinar invite\*/);
    expect(await say(app, REP, 'sequence frobnicate')).toMatch(/^I can `list`, `show`, `new`/);
  });
});

describe('/nurture sequence activate', () => {
  it('refuses with every reason: no steps, a template that does not render, no postal address, a segment that is gone', async () => {
    await createSequence(app, { name: 'Empty' });
    await updateWorkspaceSettings(app.db.sql, team, { postalAddress: null });
    try {
      expect(await say(app, MARKETER, 'sequence activate Empty')).toBe(
        [
          ':x: I can\'t activate *Empty* yet:',
          '• It has no steps yet: add them with `/nurture sequence edit "Empty"`.',
          '• The workspace has no postal address yet, and the law requires one in every marketing email. An admin sets it with `/nurture settings`.',
        ].join('\n'),
      );
    } finally {
      await updateWorkspaceSettings(app.db.sql, team, { postalAddress: '1-2-3 Marunouchi, Tokyo 100-0005' });
    }

    // A template stored before today's checks (or changed by hand) that no longer renders.
    const broken = await createTemplate(app, 'Old newsletter', 'awareness', 'Hi {{ first_name | shout }}');
    await createSequence(app, { name: 'Broken step' }, [step(thankYou, 0), step(broken, 1)]);
    expect(await say(app, MARKETER, 'sequence activate "Broken step"')).toMatch(
      /^:x: I can't activate \*Broken step\* yet:\n• Step 2 does not render for a sample lead \(The template "Old newsletter" has problems: .*shout.*\)\. Fix the template with `\/nurture template edit "Old newsletter"`\.$/,
    );

    // A trigger naming a segment that is not there (the column that would keep it is empty).
    await app.db.sql`
      INSERT INTO sequences (team_id, name, trigger, send_window, created_by, updated_by)
      VALUES (${team}, 'Lost segment', '{"kind":"segment","segmentId":987654}', '{"days":[1,2,3,4,5],"start":"09:00","end":"17:00"}', ${MARKETER}, ${MARKETER})`;
    const [lost] = await app.db.sql`SELECT id FROM sequences WHERE name = 'Lost segment'`;
    await app.db.sql`INSERT INTO sequence_steps (team_id, sequence_id, position, template_id, delay_minutes) VALUES (${team}, ${lost!.id}, 1, ${thankYou}, 0)`;
    expect(await say(app, MARKETER, 'sequence activate "Lost segment"')).toBe(
      ':x: I can\'t activate *Lost segment* yet:\n• The segment that enrolls leads no longer exists: choose another with `/nurture sequence edit`.',
    );
    for (const name of ['Empty', 'Broken step', 'Lost segment']) expect((await app.db.sql`SELECT status FROM sequences WHERE name = ${name}`)[0]!.status).toBe('draft');
  });

  it('warns when content stages do not fit the journey, and asks whether today’s segment members go through it too', async () => {
    const awareness = await createSegment(app, 'Awareness leads', {
      type: 'all',
      rules: [
        { type: 'field', field: 'industry', op: 'equals', value: 'robotics' },
        { type: 'field', field: 'stage', op: 'equals', value: 'awareness' },
      ],
    });
    await insertLead(app.db.sql, team, { industry: 'robotics', stage: 'awareness' });
    await insertLead(app.db.sql, team, { industry: 'robotics', stage: 'awareness' });
    await insertLead(app.db.sql, team, { industry: 'robotics', stage: 'decision' });
    const { id } = await createSequence(app, { name: 'Too fast', trigger: { kind: 'segment', segmentId: awareness } }, [step(pricing, 0), step(thankYou, 2)]);
    const { reply } = await app.command(MARKETER, 'sequence activate "Too fast"');
    expect(replyText(reply.body)).toContain(
      [
        ':warning: Before *Too fast* goes live, check:',
        '• Step 1 (Pricing, day 0) is *decision* content for *awareness* leads: too far ahead for them.',
        '• Step 2 (Thank you, day 2) is *awareness* content after *decision* content: the journey goes backwards.',
        'It enrolls leads as they enter *Awareness leads*. Enroll its 2 members today too, or only those who join from now on?',
      ].join('\n'),
    );
    expect(buttonsOf(reply.body)).toEqual([`${ActionIds.sequenceActivateEnrollMembers}: Activate, enroll today’s members`, `${ActionIds.sequenceActivate}: Activate, new members only`]);
    expect(await statusOf(id)).toBe('draft');

    expect(await click(MARKETER, ActionIds.sequenceActivate, id)).toBe(':white_check_mark: *Too fast* is active. New members of its segment are enrolled as they join.');
    expect(await statusOf(id)).toBe('active');
    expect((await app.db.sql`SELECT count(*)::int AS n FROM sequence_runs WHERE sequence_id = ${id} AND status = 'active'`)[0]!.n).toBe(0);
    expect(await say(app, MARKETER, 'sequence activate "Too fast"')).toBe('*Too fast* is already active.');
  });

  it('enrolls today’s members when asked to', async () => {
    const considering = await createSegment(app, 'Considering', {
      type: 'all',
      rules: [
        { type: 'field', field: 'stage', op: 'one_of', value: ['consideration', 'decision'] },
        { type: 'field', field: 'industry', op: 'equals', value: 'textiles' },
      ],
    });
    await insertLead(app.db.sql, team, { industry: 'textiles', stage: 'consideration' });
    await insertLead(app.db.sql, team, { industry: 'textiles', stage: 'decision' });
    const { id } = await createSequence(app, { name: 'Nurture considering', trigger: { kind: 'segment', segmentId: considering } }, [step(caseStudy, 0), step(pricing, 3)]);
    const { reply } = await app.command(MARKETER, 'sequence activate "Nurture considering"');
    // Stages that fit need no warning: only the question.
    expect(replyText(reply.body)).not.toContain(':warning:');
    expect(await click(MARKETER, ActionIds.sequenceActivateEnrollMembers, id)).toBe(
      ':white_check_mark: *Nurture considering* is active. Enrolled 2 leads who are in its segment today; new members are enrolled as they join.',
    );
  });

  it('activates at once when there is nothing to ask; a warning alone asks to activate anyway', async () => {
    const { id } = await createSequence(app, { name: 'By hand' }, [step(thankYou, 0), step(caseStudy, 3), step(pricing, 4)]);
    expect(await say(app, MARKETER, 'sequence activate "By hand"')).toBe(':white_check_mark: *By hand* is active. Enroll leads with `/nurture sequence enroll`.');
    expect(await statusOf(id)).toBe('active');

    const skip = await createSequence(app, { name: 'Skips a stage' }, [step(thankYou, 0), step(pricing, 3)]);
    const { reply } = await app.command(MARKETER, 'sequence activate "Skips a stage"');
    expect(replyText(reply.body)).toContain('• Step 2 (Pricing, day 3) is *decision* content right after *awareness* content: it skips *consideration*.');
    expect(buttonsOf(reply.body)).toEqual([`${ActionIds.sequenceActivate}: Activate anyway`]);
    expect(await click(MARKETER, ActionIds.sequenceActivate, skip.id)).toBe(':white_check_mark: *Skips a stage* is active. Enroll leads with `/nurture sequence enroll`.');
  });
});

describe('running a sequence from Slack', () => {
  it('pauses, resumes and (after a confirmation) archives, saying how many people it concerns', async () => {
    const { id } = await createSequence(app, { name: 'Quarterly check-in' }, [step(thankYou, 0), step(caseStudy, 30)]);
    await setStatus(id, 'active');
    const lead = await insertLead(app.db.sql, team);
    await insertRun(id, lead.id);

    expect(await say(app, MARKETER, 'sequence pause quarterly')).toBe(
      ':double_vertical_bar: Paused *Quarterly check-in*: no step goes out until it is resumed. 1 person in it waits where they are; `/nurture sequence resume` picks them up again.',
    );
    expect(await statusOf(id)).toBe('paused');
    expect(await say(app, MARKETER, 'sequence activate quarterly')).toBe('*Quarterly check-in* is paused: `/nurture sequence resume` starts it again.');
    expect(await say(app, MARKETER, 'sequence resume "Quarterly check-in"')).toBe(
      ':arrow_forward: Resumed *Quarterly check-in*. 1 person in it goes on from where they were, the next step moved into the send window.',
    );
    expect(await statusOf(id)).toBe('active');

    const { reply } = await app.command(MARKETER, 'sequence archive "Quarterly check-in"');
    expect(replyText(reply.body)).toContain('Archive *Quarterly check-in*? Everyone in it (1 person now) leaves it and gets none of its remaining steps.');
    expect(await statusOf(id)).toBe('active');
    expect(await click(REP, ActionIds.sequenceArchiveConfirm, id)).toMatch(/^Archiving sequences needs one of these roles: \*marketer\*/);
    expect(await click(MARKETER, ActionIds.sequenceArchiveConfirm, id)).toBe(':file_cabinet: Archived *Quarterly check-in*. 1 run ended: nobody gets another step from it.');
    expect(await statusOf(id)).toBe('archived');
    expect((await app.db.sql`SELECT status, exit_reason FROM sequence_runs WHERE sequence_id = ${id}`)[0]).toEqual({ status: 'exited', exit_reason: 'archived' });
    expect(await say(app, MARKETER, 'sequence archive "Quarterly check-in"')).toBe('*Quarterly check-in* is archived already.');
    expect(await say(app, MARKETER, 'sequence edit "Quarterly check-in"')).toBe('That sequence is archived: it cannot be changed any more. Build a new one with `/nurture sequence new`.');
  });

  it('enrolls a lead by address or a segment by name, and removes a lead', async () => {
    const { id } = await createSequence(app, { name: 'Demo follow-up' }, [step(caseStudy, 0), step(pricing, 2)]);
    await setStatus(id, 'active');
    const yui = await insertLead(app.db.sql, team, { email: 'yui@kojo.example', stage: 'consideration' });
    const segment = await createSegment(app, 'Kojo VPs', { type: 'field', field: 'title', op: 'contains', value: 'VP' });
    await insertLead(app.db.sql, team, { title: 'VP Sales' });
    await insertLead(app.db.sql, team, { title: 'VP Operations' });
    await insertLead(app.db.sql, team, { title: 'VP Finance', status: 'unsubscribed' });

    expect(await say(app, MARKETER, 'sequence enroll "Demo follow-up" <mailto:yui@kojo.example|yui@kojo.example>')).toBe(':white_check_mark: *Demo follow-up*: enrolled *1*.');
    expect(await say(app, MARKETER, 'sequence enroll Demo follow-up yui@kojo.example')).toBe(':information_source: *Demo follow-up*: enrolled *0* · 1 already in it.');
    expect(await say(app, MARKETER, 'sequence enroll demo Kojo VPs')).toBe(
      ':white_check_mark: *Demo follow-up*: enrolled *2* · 1 left out (unsubscribed, bounced or complained, customers, or not due to go through it again yet).',
    );
    expect(segment).toBeGreaterThan(0);
    expect(await say(app, MARKETER, 'sequence enroll demo nobody@kojo.example')).toBe('There is no lead with the address nobody@kojo.example.');
    expect(await say(app, MARKETER, 'sequence enroll demo Lapsed customers')).toBe(
      '"Lapsed customers" is neither an email address nor the name of a segment. Enroll one lead by address, or a whole segment by name (`/nurture segment list` shows them).',
    );

    expect(await say(app, MARKETER, 'sequence remove "Demo follow-up" yui@kojo.example')).toBe(':white_check_mark: Removed yui@kojo.example from *Demo follow-up*: nothing more from it goes to them.');
    expect((await app.db.sql`SELECT status, exit_reason FROM sequence_runs WHERE sequence_id = ${id} AND lead_id = ${yui.id}`)[0]).toEqual({ status: 'exited', exit_reason: 'removed' });
    expect(await say(app, MARKETER, 'sequence remove "Demo follow-up" yui@kojo.example')).toBe('yui@kojo.example is not in *Demo follow-up* right now: nothing to remove.');
  });

  it('lets anyone list and look, and only marketers and admins run sequences', async () => {
    await createSequence(app, { name: 'Roles only' }, [step(thankYou, 0)]);
    await insertLead(app.db.sql, team, { email: 'rin@kojo.example' });
    expect(await say(app, NOBODY, 'sequence show "Roles only"')).toContain('*Timeline*\nDay 0 Thank you');
    // The run-time side's refusals reach the person as they are.
    expect(await say(app, MARKETER, 'sequence pause "Roles only"')).toBe(':x: "Roles only" is draft: only an active sequence can be paused.');
    expect(await say(app, MARKETER, 'sequence enroll "Roles only" rin@kojo.example')).toBe(':x: "Roles only" is draft: only an active or paused sequence takes people in.');
    for (const command of ['activate "Roles only"', 'pause "Roles only"', 'resume "Roles only"', 'archive "Roles only"', 'enroll "Roles only" rin@kojo.example', 'remove "Roles only" rin@kojo.example']) {
      expect(await say(app, REP, `sequence ${command}`)).toMatch(/needs one of these roles: \*marketer\*/);
    }
    expect(await say(app, REP, 'sequence edit "Roles only"')).toMatch(/^Changing sequences needs one of these roles: \*marketer\*/);
    // The owner is an admin: allowed everything a marketer is.
    const view = await openModal(app, 'U0OWNER', 'sequence edit "Roles only"');
    expect(view.title).toMatchObject({ text: 'Sequence builder' });
  });
});
