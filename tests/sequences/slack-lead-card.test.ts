import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertLead } from '../support/factories.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { createSegment, createSequence, createTemplate, MARKETER, REP, say, setUpWorkspace, step } from './slack-support.ts';

let app: TestApp;
let team: string;
// Monday 2 November 2026, 10:00 in Tokyo.
const clock = new ManualClock('2026-11-02T01:00:00Z');

beforeAll(async () => {
  app = await startTestApp({ clock });
  team = app.slack.teamId;
  await setUpWorkspace(app);
});
afterAll(() => app.stop());

const insertRun = (sequenceId: number, leadId: number, fields: Record<string, unknown>) =>
  app.db.sql`INSERT INTO sequence_runs ${app.db.sql({ team_id: team, sequence_id: sequenceId, lead_id: leadId, enrolled_by: MARKETER, ...fields } as never)}`;

describe('the lead card', () => {
  it('lists the lead’s sequences and where they are in each', async () => {
    const templates = await Promise.all(['Thank you', 'Case study', 'Pricing', 'Demo'].map((name) => createTemplate(app, name, 'consideration')));
    const whitepaper = await createSequence(app, { name: 'Whitepaper follow-up' }, templates.map((id, index) => step(id, index * 3)));
    const onboarding = await createSequence(app, { name: 'Onboarding' }, [step(templates[0]!, 0)]);
    const webinar = await createSequence(app, { name: 'Webinar <invite>' }, [step(templates[0]!, 0), step(templates[1]!, 2)]);
    for (const id of [whitepaper.id, onboarding.id, webinar.id]) await app.db.sql`UPDATE sequences SET status = 'active' WHERE id = ${id}`;
    const lead = await insertLead(app.db.sql, team, { email: 'hana@kojo.example', first_name: 'Hana', time_zone: 'Asia/Tokyo' });
    const enrolled = new Date('2026-10-30T01:00:00Z');
    // Step 1 went out; step 2 is due on Tuesday at 09:00 on Hana's clock.
    await insertRun(whitepaper.id, lead.id, {
      enrolled_at: enrolled,
      last_step_id: whitepaper.stepIds[0],
      last_sent_at: enrolled,
      next_step_id: whitepaper.stepIds[1],
      due_at: new Date('2026-11-03T00:00:00Z'),
    });
    await insertRun(onboarding.id, lead.id, { enrolled_at: new Date('2026-09-01T00:00:00Z'), status: 'completed', ended_at: new Date('2026-09-02T00:00:00Z') });
    await insertRun(webinar.id, lead.id, { enrolled_at: new Date('2026-10-01T00:00:00Z'), status: 'exited', exit_reason: 'unsubscribed', ended_at: new Date('2026-10-02T00:00:00Z') });

    const card = await say(app, REP, 'lead hana@kojo.example');
    expect(card).toContain(
      ['*Sequences*', '• Whitepaper follow-up · step 2 of 4 · next Tue 09:00', '• Webinar &lt;invite&gt; · exited: unsubscribed', '• Onboarding · completed'].join('\n'),
    );

    // Paused: the lead waits where they are.
    await app.db.sql`UPDATE sequences SET status = 'paused' WHERE id = ${whitepaper.id}`;
    expect(await say(app, REP, 'lead hana@kojo.example')).toContain('• Whitepaper follow-up · step 2 of 4 · paused');
  });

  it('says so when the lead is in no sequence', async () => {
    await insertLead(app.db.sql, team, { email: 'ken@kojo.example' });
    expect(await say(app, REP, 'lead ken@kojo.example')).toContain('*Sequences*\n_Not in any sequence._');
  });
});

describe('a segment a sequence enrolls from', () => {
  it('cannot be deleted, and says which sequence uses it', async () => {
    const template = await createTemplate(app, 'Intro', 'awareness');
    const segment = await createSegment(app, 'Whitepaper readers', { type: 'field', field: 'stage', op: 'equals', value: 'awareness' });
    await createSequence(app, { name: 'Reader journey', trigger: { kind: 'segment', segmentId: segment } }, [step(template, 0)]);

    expect(await say(app, MARKETER, 'segment delete "Whitepaper readers"')).toBe(
      '"Whitepaper readers" is in use by the sequence "Reader journey (draft)", so deleting it would change who they reach. Stop or change those first.',
    );
    expect(await say(app, REP, 'segment show "Whitepaper readers"')).toContain('• the sequence *Reader journey (draft)*');
    expect((await app.db.sql`SELECT count(*)::int AS n FROM segments WHERE id = ${segment}`)[0]!.n).toBe(1);

    // Once the sequence enrolls from another segment, this one may go.
    const other = await createSegment(app, 'Everyone');
    await app.db.sql`UPDATE sequences SET trigger = ${app.db.sql.json({ kind: 'segment', segmentId: other })}, trigger_segment_id = ${other} WHERE name = 'Reader journey'`;
    expect(await say(app, MARKETER, 'segment delete "Whitepaper readers"')).toContain('Delete the segment *Whitepaper readers*');

    // An archived sequence no longer holds its segment: it is listed, and the delete goes ahead.
    await app.db.sql`UPDATE sequences SET status = 'archived' WHERE name = 'Reader journey'`;
    const shown = await say(app, REP, 'segment show Everyone');
    expect(shown).toContain('• the sequence *Reader journey (archived)*');
    expect(shown).not.toContain('keeps it from being deleted');
    expect(await say(app, MARKETER, 'segment delete Everyone')).toContain('Delete the segment *Everyone*');
  });
});
