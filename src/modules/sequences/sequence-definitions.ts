import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import type { TransactionSql } from '../../db/client.ts';
import { EmailSchema } from '../leads/lead-input.ts';
import { SEGMENT_GONE_TEXT, TEMPLATE_GONE_TEXT } from '../newsletters/submit-newsletter-modal.ts';
import { findSegmentById } from '../segments/queries.ts';
import { findTemplateById } from '../templates/queries.ts';
import { recordAudit, touchWorkspace } from '../workspaces/queries.ts';
import {
  findSequenceIdByName,
  insertSequence,
  insertStep,
  liveStepIds,
  lockSequence,
  markStepRemoved,
  renumberSteps,
  updateSequenceDefinition,
  updateStep,
  type SequenceDefinition,
  type StepDefinition,
} from './queries.ts';
import { DELAY_FROM, EventName, MAX_DELAY_MINUTES, SendWindowSchema, StepConditionSchema, TriggerSchema, type SequenceStatus } from './sequence.ts';
import { stepsChanged } from './sequence-lifecycle.ts';

/**
 * Authoring sequences: their definition and their steps, as the builder changes them. Every change is
 * validated again here, made in one transaction with its audit entry, and — for a sequence people are
 * already in — followed by stepsChanged so their runs follow the new steps.
 */

/** A builder holds this many steps (two blocks each keep the modal well inside Slack's 100). */
export const MAX_STEPS = 20;

const optionalText = (max: number, message: string) =>
  z.string().trim().max(max, message).nullable().transform((value) => (value ? value : null));

export const SequenceDefinitionSchema = z.object({
  name: z.string().trim().min(1, 'give the sequence a name').max(80, 'names are at most 80 characters'),
  goal: optionalText(300, 'the goal is at most 300 characters'),
  goalEvent: EventName.nullable(),
  trigger: TriggerSchema,
  sendWindow: SendWindowSchema,
  senderName: optionalText(80, 'sender names are at most 80 characters'),
  replyTo: EmailSchema.nullable(),
  reenrollAfterDays: z.number().int('days are a whole number').min(1, 'at least 1 day').max(3650, 'at most 3,650 days (ten years)').nullable(),
}) satisfies z.ZodType<SequenceDefinition, unknown>;

export const StepDefinitionSchema = z.object({
  templateId: z.number().int().positive(),
  delayMinutes: z.number().int('whole minutes, hours or days').min(0, 'a delay cannot be negative').max(MAX_DELAY_MINUTES, 'a step waits at most a year'),
  delayFrom: z.enum(DELAY_FROM),
  condition: StepConditionSchema.nullable(),
}) satisfies z.ZodType<StepDefinition, unknown>;

export const sequenceNameTakenText = (name: string) =>
  `There is already a sequence called "${name}". Pick another name, or change that one with \`/nurture sequence edit\`.`;
export const SEQUENCE_GONE_TEXT = 'That sequence no longer exists. `/nurture sequence list` shows the ones there are.';
export const ARCHIVED_TEXT = 'That sequence is archived: it cannot be changed any more. Build a new one with `/nurture sequence new`.';
export const STEP_GONE_TEXT = 'That step was removed meanwhile. Add it again if you still want it.';
export const tooManyStepsText = `A sequence has at most ${MAX_STEPS} steps.`;

/** A refusal about one part of a definition: the forms show it beside that field. */
export class DefinitionError extends UsageError {
  override name = 'DefinitionError';
  readonly field: 'name' | 'segment' | 'template' | 'other';
  constructor(field: DefinitionError['field'], message: string) {
    super(message);
    this.field = field;
  }
}

/** A new draft; returns its id. */
export async function createSequence(services: Services, teamId: string, userId: string, input: SequenceDefinition): Promise<number> {
  const definition = SequenceDefinitionSchema.parse(input);
  return services.sql.begin(async (tx) => {
    await touchWorkspace(tx, teamId);
    await requireSegment(tx, teamId, definition);
    const id = await insertSequence(tx, teamId, userId, definition);
    if (id === undefined) throw new DefinitionError('name', sequenceNameTakenText(definition.name));
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'sequence.created', subject: String(id), details: { name: definition.name, trigger: definition.trigger } });
    return id;
  });
}

/** Name, goal, trigger, window, sender, re-enrollment: any status but archived. */
export async function changeSequenceDefinition(services: Services, teamId: string, userId: string, sequenceId: number, input: SequenceDefinition): Promise<void> {
  const definition = SequenceDefinitionSchema.parse(input);
  await services.sql.begin(async (tx) => {
    await lockEditable(tx, teamId, sequenceId);
    const clash = await findSequenceIdByName(tx, teamId, definition.name);
    if (clash !== undefined && clash !== sequenceId) throw new DefinitionError('name', sequenceNameTakenText(definition.name));
    await requireSegment(tx, teamId, definition);
    await updateSequenceDefinition(tx, teamId, sequenceId, userId, definition);
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'sequence.updated', subject: String(sequenceId), details: { ...definition } });
  });
}

/** Adds a step at the end (no stepId) or changes one in place (its id, the ledger's source_step, stays). */
export async function saveStep(services: Services, request: { teamId: string; userId: string; sequenceId: number; stepId?: number; step: StepDefinition }): Promise<void> {
  const { teamId, userId, sequenceId, stepId } = request;
  const step = StepDefinitionSchema.parse(request.step);
  await changeSteps(services, teamId, sequenceId, async (tx) => {
    if (!(await findTemplateById(tx, teamId, step.templateId))) throw new DefinitionError('template', TEMPLATE_GONE_TEXT);
    if (stepId === undefined) {
      if ((await liveStepIds(tx, teamId, sequenceId)).length >= MAX_STEPS) throw new DefinitionError('other', tooManyStepsText);
      const id = await insertStep(tx, teamId, sequenceId, step);
      await recordAudit(tx, { teamId, actorUserId: userId, action: 'sequence.step_added', subject: String(sequenceId), details: { stepId: id, ...step } });
    } else {
      if (!(await updateStep(tx, teamId, sequenceId, stepId, step))) throw new DefinitionError('other', STEP_GONE_TEXT);
      await recordAudit(tx, { teamId, actorUserId: userId, action: 'sequence.step_changed', subject: String(sequenceId), details: { stepId, ...step } });
    }
  });
}

/** One place earlier (up) or later (down); a step already first or last stays. */
export async function moveStep(services: Services, request: { teamId: string; userId: string; sequenceId: number; stepId: number; direction: 'up' | 'down' }): Promise<void> {
  const { teamId, userId, sequenceId, stepId, direction } = request;
  await changeSteps(services, teamId, sequenceId, async (tx) => {
    const ids = await liveStepIds(tx, teamId, sequenceId);
    const from = ids.indexOf(stepId);
    const to = direction === 'up' ? from - 1 : from + 1;
    if (from === -1 || to < 0 || to >= ids.length) return false;
    [ids[from], ids[to]] = [ids[to]!, ids[from]!];
    await renumberSteps(tx, teamId, sequenceId, ids);
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'sequence.step_moved', subject: String(sequenceId), details: { stepId, from: from + 1, to: to + 1 } });
    return true;
  });
}

/** The step stops being sent; its row stays (removed_at) so what it sent is still attributed to it. */
export async function removeStep(services: Services, request: { teamId: string; userId: string; sequenceId: number; stepId: number }): Promise<void> {
  const { teamId, userId, sequenceId, stepId } = request;
  await changeSteps(services, teamId, sequenceId, async (tx) => {
    if (!(await markStepRemoved(tx, teamId, sequenceId, stepId))) return false;
    await renumberSteps(tx, teamId, sequenceId, await liveStepIds(tx, teamId, sequenceId));
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'sequence.step_removed', subject: String(sequenceId), details: { stepId } });
    return true;
  });
}

/**
 * Runs a change of the steps under the sequence's lock; after it committed, people already in a
 * sequence that runs (or is paused) are moved onto the new steps. `change` returns false when it
 * changed nothing (a stale button).
 */
async function changeSteps(services: Services, teamId: string, sequenceId: number, change: (tx: TransactionSql) => Promise<boolean | void>): Promise<void> {
  const outcome = await services.sql.begin(async (tx) => {
    const status = await lockEditable(tx, teamId, sequenceId);
    return { status, changed: (await change(tx)) !== false };
  });
  if (outcome.changed && outcome.status !== 'draft') await stepsChanged(services, { teamId, sequenceId });
}

async function lockEditable(tx: TransactionSql, teamId: string, sequenceId: number): Promise<SequenceStatus> {
  const locked = await lockSequence(tx, teamId, sequenceId);
  if (!locked) throw new DefinitionError('other', SEQUENCE_GONE_TEXT);
  if (locked.status === 'archived') throw new DefinitionError('other', ARCHIVED_TEXT);
  return locked.status;
}

/** The segment a trigger names must be this workspace's (the foreign key alone would accept another's). */
async function requireSegment(tx: TransactionSql, teamId: string, definition: SequenceDefinition): Promise<void> {
  if (definition.trigger.kind === 'segment' && !(await findSegmentById(tx, teamId, definition.trigger.segmentId))) {
    throw new DefinitionError('segment', SEGMENT_GONE_TEXT);
  }
}
