import type { BlockAction } from '@slack/bolt';
import type { ModalView } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import type { StateValues } from '../../slack/read-input-values.ts';
import { slackErrorCode } from '../../slack/slack-errors.ts';
import { NO_TEMPLATES_TEXT } from '../newsletters/newsletter-subcommand.ts';
import { requireRole } from '../roles/roles.ts';
import { findSegmentById, listSegments } from '../segments/queries.ts';
import { listTemplates } from '../templates/queries.ts';
import {
  BuilderMetadataSchema,
  buildSequenceBuilderModal,
  buildSequenceDetailsModal,
  buildSequenceNoticeModal,
  buildSequenceStepModal,
  DetailsMetadataSchema,
  readMetadata,
  StepMetadataSchema,
  type BuilderFacts,
} from './build-sequence-modal.ts';
import { findSequence } from './queries.ts';
import { moveStep, removeStep, SEQUENCE_GONE_TEXT } from './sequence-definitions.ts';
import { detailsFormOf, readDetailsForm, readStepForm, stepFormOf } from './sequence-forms.ts';

/**
 * Clicks in the builder and its forms. Listeners ack first; then the change is made and the builder is
 * drawn again from the database (what it shows is what is stored). Forms on top of the builder are
 * pushed with the click's trigger_id, which expires ~3 s after the click: they open before anything slow.
 */

export const CHANGING_SEQUENCES = 'Changing sequences';

/** A click as Bolt hands it over, reduced to what these handlers read. */
export interface BuilderClick {
  body: BlockAction;
  client: WebClient;
  /** The button's value (a step id), or the choice made. */
  value: string | undefined;
}

interface OpenView {
  id: string;
  hash: string;
  private_metadata: string;
  state?: { values: StateValues };
}

const teamOf = (body: BlockAction) => body.team?.id ?? body.view?.team_id ?? '';
const viewOf = (body: BlockAction) => body.view as unknown as OpenView | undefined;
const StepIdSchema = z.string().regex(/^\d{1,9}$/).transform(Number);

/** The sequence with its template names and trigger segment, as the builder shows it; undefined when it is gone. */
export async function loadBuilderFacts(services: Services, teamId: string, sequenceId: number, notice?: string): Promise<BuilderFacts | undefined> {
  const [sequence, templates] = await Promise.all([findSequence(services.sql, teamId, sequenceId), listTemplates(services.sql, teamId)]);
  if (!sequence) return undefined;
  const segment = sequence.trigger.kind === 'segment' ? ((await findSegmentById(services.sql, teamId, sequence.trigger.segmentId))?.name ?? null) : undefined;
  return {
    sequence,
    templates: new Map(templates.map((template) => [template.id, { name: template.name, stage: template.stage }])),
    ...(segment === undefined ? {} : { segmentName: segment }),
    ...(notice ? { notice } : {}),
  };
}

/** Draws the builder again (or says the sequence is gone). No hash: the database, not the view, is the truth. */
export async function refreshBuilder(services: Services, client: WebClient, target: { teamId: string; viewId: string; sequenceId: number; notice?: string }): Promise<void> {
  const facts = await loadBuilderFacts(services, target.teamId, target.sequenceId, target.notice);
  try {
    await client.views.update({ view_id: target.viewId, view: facts ? buildSequenceBuilderModal(facts) : buildSequenceNoticeModal(SEQUENCE_GONE_TEXT) });
  } catch (error) {
    // The person closed the builder meanwhile: what they did is saved; there is nothing to draw.
    if (slackErrorCode(error) !== 'not_found') throw error;
    services.logger.info({ teamId: target.teamId, sequenceId: target.sequenceId }, 'sequence builder closed before it could be redrawn');
  }
}

/** Moves a step up or down, or removes it, then redraws the builder; a refusal is shown at its top. */
export async function changeStepFromBuilder(services: Services, { body, client, value }: BuilderClick, change: 'up' | 'down' | 'remove'): Promise<void> {
  const teamId = teamOf(body);
  const view = viewOf(body);
  const metadata = readMetadata(BuilderMetadataSchema, view?.private_metadata);
  const stepId = StepIdSchema.safeParse(value);
  if (!view || !metadata || !stepId.success) return;
  const request = { teamId, userId: body.user.id, sequenceId: metadata.sequenceId, stepId: stepId.data };
  let notice: string | undefined;
  try {
    await requireRole(services, teamId, body.user.id, ['marketer'], CHANGING_SEQUENCES);
    if (change === 'remove') await removeStep(services, request);
    else await moveStep(services, { ...request, direction: change });
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    notice = error.message;
  }
  await refreshBuilder(services, client, { teamId, viewId: view.id, sequenceId: metadata.sequenceId, notice });
}

/** "Edit details": the details form on top of the builder, filled in. */
export async function openDetailsFromBuilder(services: Services, { body, client }: BuilderClick): Promise<void> {
  const teamId = teamOf(body);
  const view = viewOf(body);
  const metadata = readMetadata(BuilderMetadataSchema, view?.private_metadata);
  if (!view || !metadata) return;
  const [sequence, segments] = await Promise.all([findSequence(services.sql, teamId, metadata.sequenceId), listSegments(services.sql, teamId)]);
  if (!sequence) return refreshBuilder(services, client, { teamId, viewId: view.id, sequenceId: metadata.sequenceId });
  await client.views.push({
    trigger_id: body.trigger_id,
    view: buildSequenceDetailsModal(detailsFormOf(sequence), { segments }, { sequenceId: sequence.id, builderViewId: view.id }),
  });
}

/** "Add a step" (no step id) or a step's "Edit": the step form on top of the builder. */
export async function openStepFromBuilder(services: Services, { body, client, value }: BuilderClick): Promise<void> {
  const teamId = teamOf(body);
  const view = viewOf(body);
  const metadata = readMetadata(BuilderMetadataSchema, view?.private_metadata);
  if (!view || !metadata) return;
  const stepId = value === undefined ? undefined : (StepIdSchema.safeParse(value).data ?? Number.NaN);
  const [sequence, templates] = await Promise.all([findSequence(services.sql, teamId, metadata.sequenceId), listTemplates(services.sql, teamId)]);
  const index = sequence && stepId !== undefined ? sequence.steps.findIndex((step) => step.id === stepId) : -1;
  if (!sequence || templates.length === 0 || (stepId !== undefined && index === -1)) {
    // Gone, or nothing to choose from: the builder says so (a stale step button simply redraws it).
    const notice = sequence && templates.length === 0 ? NO_TEMPLATES_TEXT : undefined;
    return refreshBuilder(services, client, { teamId, viewId: view.id, sequenceId: metadata.sequenceId, notice });
  }
  const step = index === -1 ? undefined : sequence.steps[index];
  await client.views.push({
    trigger_id: body.trigger_id,
    view: buildSequenceStepModal(stepFormOf(step), { templates }, {
      sequenceId: sequence.id,
      ...(step ? { stepId: step.id } : {}),
      position: step ? index + 1 : sequence.steps.length + 1,
      builderViewId: view.id,
    }),
  });
}

/** A choice that changes which inputs the details form shows (trigger, re-enrollment): drawn again with what is entered. */
export async function redrawDetailsForm(services: Services, { body, client }: BuilderClick): Promise<void> {
  const view = viewOf(body);
  const metadata = readMetadata(DetailsMetadataSchema, view?.private_metadata);
  if (!view || !metadata) return;
  const segments = await listSegments(services.sql, teamOf(body));
  await updateIfCurrent(services, client, view, buildSequenceDetailsModal(readDetailsForm(view.state?.values), { segments }, metadata));
}

/** A condition chosen in the step form: drawn again with the inputs that condition needs. */
export async function redrawStepForm(services: Services, { body, client }: BuilderClick): Promise<void> {
  const view = viewOf(body);
  const metadata = readMetadata(StepMetadataSchema, view?.private_metadata);
  if (!view || !metadata) return;
  const templates = await listTemplates(services.sql, teamOf(body));
  await updateIfCurrent(services, client, view, buildSequenceStepModal(readStepForm(view.state?.values), { templates }, metadata));
}

/** With the view's hash: a redraw from an outdated screen is dropped (the newer one brought its own). */
async function updateIfCurrent(services: Services, client: WebClient, view: OpenView, next: ModalView): Promise<void> {
  try {
    await client.views.update({ view_id: view.id, hash: view.hash, view: next });
  } catch (error) {
    if (slackErrorCode(error) !== 'hash_conflict') throw error;
    services.logger.debug({ viewId: view.id }, 'sequence form changed meanwhile; this redraw was dropped');
  }
}
