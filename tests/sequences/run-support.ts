import { expect } from 'vitest';
import type { LedgerState } from '../../src/modules/delivery/ledger-queries.ts';
import { enrollLeads, leadRuns, type EnrollResult, type LeadRun } from '../../src/modules/sequences/runs.ts';
import { activateSequence } from '../../src/modules/sequences/sequence-lifecycle.ts';
import type { DelayFrom, SendWindow, StepCondition, Trigger } from '../../src/modules/sequences/sequence.ts';
import { tickSequences, type TickSummary } from '../../src/modules/sequences/tick-sequences.ts';
import { insertTemplate } from '../../src/modules/templates/queries.ts';
import { updateWorkspaceSettings, type WorkspaceSettingsChange } from '../../src/modules/workspaces/settings.ts';
import type { RecordedEmail } from '../support/fake-resend.ts';
import { insertLead } from '../support/factories.ts';
import type { ManualClock } from '../support/manual-clock.ts';
import { startTestApp, type TestApp, type TestAppOptions } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

export const MARKETER = 'U0MARI';
export const OWNER = 'U0OWNER';

/** Weekdays 9:00–17:00 with Japan's holidays off. */
export const JP_WINDOW: SendWindow = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', holidays: 'jp' };
/** Every day, 9:00–17:00. */
export const DAILY_WINDOW: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], start: '09:00', end: '17:00', holidays: null };
/** Always open: tests about something else than windows. */
export const ALWAYS: SendWindow = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59', holidays: null };

/**
 * The whole app on a clock the test moves, in a workspace that may send (postal address, sender name)
 * with a frequency cap loose enough not to get in the way unless a test tightens it.
 */
export async function startSequenceApp(clock: ManualClock, options: TestAppOptions = {}, settings: WorkspaceSettingsChange = {}): Promise<TestApp> {
  const app = await startTestApp({ clock, ...options });
  if (!options.db) {
    app.addUser({ id: OWNER, name: 'olga', isOwner: true, email: 'olga@kojo.example' });
    app.addUser({ id: MARKETER, name: 'mari', email: 'mari@kojo.example' });
    await updateWorkspaceSettings(app.db.sql, app.slack.teamId, {
      senderName: 'Kojo Marketing',
      postalAddress: '1-2-3 Marunouchi, Tokyo 100-0005',
      capPerDay: 20,
      capPerWeek: 50,
      ...settings,
    });
  }
  return app;
}

/** A template whose subject names it, so an email says which step it is. */
export async function createTemplate(app: TestApp, name: string, body = `Hello {{ first_name | default: "there" }}, this is ${name}.`): Promise<number> {
  const row = await insertTemplate(app.db.sql, app.slack.teamId, MARKETER, { name, stage: 'awareness', subject: `${name} for {{ first_name | default: "you" }}`, preheader: '', body });
  return row!.id;
}

export interface StepSpec {
  template: number;
  delayMinutes?: number;
  delayFrom?: DelayFrom;
  condition?: StepCondition;
}

export interface SequenceSpec {
  name: string;
  steps: StepSpec[];
  trigger?: Trigger;
  window?: SendWindow;
  goalEvent?: string;
  reenrollAfterDays?: number;
  replyTo?: string;
  senderName?: string;
}

/** A sequence created as a draft, then activated (for people enrolled by hand: nobody from a segment yet). */
export async function activeSequence(app: TestApp, spec: SequenceSpec): Promise<{ id: number; stepIds: number[] }> {
  const sequence = await createSequence(app, spec);
  const activated = await activateSequence(app.nurture.services, { teamId: app.slack.teamId, sequenceId: sequence.id, userId: MARKETER, enrollCurrentMembers: false });
  expect(activated).toMatchObject({ ok: true, sequence: { status: 'active' } });
  return sequence;
}

/** Enrolls leads by hand, as `/nurture sequence enroll` does. */
export const enrollIn = (app: TestApp, sequenceId: number, leadIds: number[]): Promise<EnrollResult> =>
  enrollLeads(app.nurture.services, { teamId: app.slack.teamId, sequenceId, who: { leadIds }, enrolledBy: MARKETER });

/** A draft sequence as the authoring side stores it; returns its id and its steps' ids in order. */
export async function createSequence(app: TestApp, spec: SequenceSpec): Promise<{ id: number; stepIds: number[] }> {
  const teamId = app.slack.teamId;
  const trigger = spec.trigger ?? { kind: 'manual' };
  const [sequence] = await app.db.sql<{ id: number }[]>`
    INSERT INTO sequences (team_id, name, goal_event, trigger, trigger_segment_id, send_window, sender_name, reply_to, reenroll_after_days, created_by, updated_by)
    VALUES (${teamId}, ${spec.name}, ${spec.goalEvent ?? null}, ${app.db.sql.json(trigger as never)}, ${trigger.kind === 'segment' ? trigger.segmentId : null},
            ${app.db.sql.json((spec.window ?? ALWAYS) as never)}, ${spec.senderName ?? null}, ${spec.replyTo ?? null}, ${spec.reenrollAfterDays ?? null}, ${MARKETER}, ${MARKETER})
    RETURNING id`;
  const stepIds: number[] = [];
  for (const [index, step] of spec.steps.entries()) stepIds.push(await addStep(app, sequence!.id, index + 1, step));
  return { id: sequence!.id, stepIds };
}

export async function addStep(app: TestApp, sequenceId: number, position: number, step: StepSpec): Promise<number> {
  const [row] = await app.db.sql<{ id: number }[]>`
    INSERT INTO sequence_steps (team_id, sequence_id, position, template_id, delay_minutes, delay_from, condition)
    VALUES (${app.slack.teamId}, ${sequenceId}, ${position}, ${step.template}, ${step.delayMinutes ?? 0}, ${step.delayFrom ?? 'previous'},
            ${step.condition ? app.db.sql.json(step.condition as never) : null})
    RETURNING id`;
  return row!.id;
}

/**
 * Runs `work` while a worker instance is up on the app's database: send jobs (and the minute's tick) run
 * only then when the app itself is a web instance, so a test decides when emails go out.
 */
export async function withWorker<T>(app: TestApp, clock: ManualClock, work: () => Promise<T>): Promise<T> {
  const worker = await startTestApp({ clock, role: 'worker', db: app.db, slack: app.slack, resend: app.resend });
  try {
    return await work();
  } finally {
    await worker.stop();
  }
}

export const tick = (app: TestApp): Promise<TickSummary> => tickSequences(app.nurture.services);

export const addLead = (app: TestApp, fields: Record<string, unknown> = {}) => insertLead(app.db.sql, app.slack.teamId, fields);

/** The subjects of the emails the fake Resend got for the address, in order. */
export const subjectsTo = (app: TestApp, address: string) => app.resend.byRecipient(address).map((email) => email.subject);

/** Waits until the address got `count` emails in all, and returns them. */
export async function waitForEmailsTo(app: TestApp, address: string, count: number): Promise<RecordedEmail[]> {
  return waitFor(() => app.resend.byRecipient(address).length >= count && app.resend.byRecipient(address), {
    timeoutMs: 10_000,
    description: `${count} email(s) to ${address} (got: ${JSON.stringify(subjectsTo(app, address))})`,
  });
}

/**
 * Waits until nothing of the sequence is due on the app's clock (a tick the app ran by itself, e.g. asked
 * for by an enrollment, may be the one holding those runs) and no ledger row is still queued or being
 * sent: what the tick handed over went out.
 */
export async function settled(app: TestApp, sequenceId: number): Promise<void> {
  const now = app.nurture.services.clock.now();
  await waitFor(
    async () => {
      const [row] = await app.db.sql<{ due: number; pending: number }[]>`
        SELECT (SELECT count(*) FROM sequence_runs WHERE sequence_id = ${sequenceId} AND status = 'active' AND due_at <= ${now})::int AS due,
               (SELECT count(*) FROM email_sends WHERE source_kind = 'sequence' AND source_id = ${sequenceId} AND state IN ('queued', 'sending'))::int AS pending`;
      return row!.due === 0 && row!.pending === 0;
    },
    { timeoutMs: 10_000, description: `sequence ${sequenceId}'s due steps to be handed over and to leave` },
  );
}

/** The lead's run in the sequence as the lead card shows it. */
export async function runOf(app: TestApp, sequenceId: number, leadId: number): Promise<LeadRun> {
  const run = (await leadRuns(app.db.sql, app.slack.teamId, leadId)).find((candidate) => candidate.sequenceId === sequenceId);
  expect(run, `lead ${leadId} has a run in sequence ${sequenceId}`).toBeDefined();
  return run!;
}

/** The sequence's ledger rows of a lead: step id, state, reason. */
export async function ledgerOf(app: TestApp, sequenceId: number, leadId: number): Promise<Array<{ step: number; state: LedgerState; reason: string | null; sent_at: Date | null }>> {
  return app.db.sql<Array<{ step: number; state: LedgerState; reason: string | null; sent_at: Date | null }>>`
    SELECT source_step AS step, state, reason, sent_at FROM email_sends
    WHERE source_kind = 'sequence' AND source_id = ${sequenceId} AND lead_id = ${leadId} ORDER BY id`;
}

export async function auditActions(app: TestApp, sequenceId: number): Promise<string[]> {
  return (
    await app.db.sql<{ action: string }[]>`
      SELECT action FROM audit_log WHERE team_id = ${app.slack.teamId} AND subject = ${String(sequenceId)} AND action LIKE 'sequence.%' ORDER BY id`
  ).map((row) => row.action);
}
