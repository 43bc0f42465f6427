import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { clip } from '../../slack/mrkdwn.ts';
import type { StateValues } from '../../slack/read-input-values.ts';
import { requireRole } from '../roles/roles.ts';
import { buildSequenceBuilderModal, buildSequenceNoticeModal, DetailsMetadataSchema, readMetadata, StepMetadataSchema } from './build-sequence-modal.ts';
import { CHANGING_SEQUENCES, loadBuilderFacts, refreshBuilder } from './click-sequence-builder.ts';
import { changeSequenceDefinition, createSequence, DefinitionError, saveStep, SEQUENCE_GONE_TEXT } from './sequence-definitions.ts';
import { definitionFromForm, DetailsBlockIds, readDetailsForm, readStepForm, StepBlockIds, stepFromForm, type FieldErrors } from './sequence-forms.ts';

type ViewSubmission = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

export const OUTDATED_FORM_TEXT = 'This form is out of date. Close it and open the sequence again with `/nurture sequence edit`.';
/** Slack's error bubble under a field is short. */
const FIELD_ERROR_MAX = 500;

/** Inputs that only show after a choice: an error about one the form does not show goes to that choice. */
const SHOWN_BY: Record<string, string> = {
  [DetailsBlockIds.segment]: DetailsBlockIds.trigger,
  [DetailsBlockIds.eventName]: DetailsBlockIds.trigger,
  [DetailsBlockIds.eventProperties]: DetailsBlockIds.trigger,
  [DetailsBlockIds.reenrollDays]: DetailsBlockIds.reenroll,
  [StepBlockIds.stages]: StepBlockIds.condition,
  [StepBlockIds.page]: StepBlockIds.condition,
  [StepBlockIds.pageDays]: StepBlockIds.condition,
};

/**
 * Errors go beside input blocks of the view (Slack shows them nowhere else); one about an input the
 * view does not show goes to the choice that shows it, or to the first input.
 */
function placeErrors(errors: FieldErrors, view: ViewSubmission['view']): FieldErrors {
  const inputs = (view.blocks as ReadonlyArray<{ type: string; block_id?: string }>).filter((block) => block.type === 'input').map((block) => block.block_id ?? '');
  const placed: FieldErrors = {};
  for (const [blockId, message] of Object.entries(errors)) {
    const shownBy = SHOWN_BY[blockId];
    const target = inputs.includes(blockId) ? blockId : shownBy && inputs.includes(shownBy) ? shownBy : (inputs[0] ?? blockId);
    placed[target] = clip(placed[target] ? `${placed[target]} ${message}` : message, FIELD_ERROR_MAX);
  }
  return placed;
}

const DEFINITION_FIELDS: Record<DefinitionError['field'], string> = {
  name: DetailsBlockIds.name,
  segment: DetailsBlockIds.segment,
  template: StepBlockIds.template,
  other: DetailsBlockIds.name,
};

/**
 * The details form's Save. A new sequence is saved as a draft and the modal becomes its builder; a
 * changed one is saved, this form closes and the builder under it is drawn again.
 */
export async function submitSequenceDetails(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const metadata = readMetadata(DetailsMetadataSchema, view.private_metadata);
  if (!metadata) return void (await ack({ response_action: 'errors', errors: placeErrors({ [DetailsBlockIds.name]: OUTDATED_FORM_TEXT }, view) }));
  const checked = definitionFromForm(readDetailsForm(view.state.values as StateValues));
  if (!checked.ok) return void (await ack({ response_action: 'errors', errors: placeErrors(checked.errors, view) }));

  let sequenceId = metadata.sequenceId;
  try {
    await requireRole(services, teamId, userId, ['marketer'], sequenceId === undefined ? 'Building sequences' : CHANGING_SEQUENCES);
    if (sequenceId === undefined) sequenceId = await createSequence(services, teamId, userId, checked.value);
    else await changeSequenceDefinition(services, teamId, userId, sequenceId, checked.value);
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    const blockId = error instanceof DefinitionError ? DEFINITION_FIELDS[error.field] : DetailsBlockIds.name;
    return void (await ack({ response_action: 'errors', errors: placeErrors({ [blockId]: error.message }, view) }));
  }
  services.logger.info({ teamId, userId, sequenceId, created: metadata.sequenceId === undefined }, 'sequence details saved');

  if (metadata.sequenceId === undefined) {
    const facts = await loadBuilderFacts(services, teamId, sequenceId);
    await ack({ response_action: 'update', view: facts ? buildSequenceBuilderModal(facts) : buildSequenceNoticeModal(SEQUENCE_GONE_TEXT) });
    return;
  }
  await ack();
  if (metadata.builderViewId) await refreshBuilder(services, services.slack, { teamId, viewId: metadata.builderViewId, sequenceId });
}

/** The step form's Save: the step is saved (added last, or changed in place), the form closes, the builder is drawn again. */
export async function submitSequenceStep(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const metadata = readMetadata(StepMetadataSchema, view.private_metadata);
  if (!metadata) return void (await ack({ response_action: 'errors', errors: placeErrors({ [StepBlockIds.template]: OUTDATED_FORM_TEXT }, view) }));
  const checked = stepFromForm(readStepForm(view.state.values as StateValues));
  if (!checked.ok) return void (await ack({ response_action: 'errors', errors: placeErrors(checked.errors, view) }));
  try {
    await requireRole(services, teamId, userId, ['marketer'], CHANGING_SEQUENCES);
    await saveStep(services, { teamId, userId, sequenceId: metadata.sequenceId, ...(metadata.stepId ? { stepId: metadata.stepId } : {}), step: checked.value });
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    return void (await ack({ response_action: 'errors', errors: placeErrors({ [StepBlockIds.template]: error.message }, view) }));
  }
  await ack();
  services.logger.info({ teamId, userId, sequenceId: metadata.sequenceId, stepId: metadata.stepId }, 'sequence step saved');
  await refreshBuilder(services, services.slack, { teamId, viewId: metadata.builderViewId, sequenceId: metadata.sequenceId });
}
