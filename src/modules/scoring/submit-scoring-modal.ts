import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { PermissionDeniedError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { readInputValues, type StateValues } from '../../slack/read-input-values.ts';
import { requireRole } from '../roles/roles.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { buildScoringSavedModal, ScoringBlockIds, type NumberField } from './build-scoring-modal.ts';
import { loadScoringModel } from './load-scoring-model.ts';
import { saveScoringModelDocument } from './queries.ts';
import { ScoringModelSchema, type ScoringModel } from './scoring-model.ts';

export const KEY_PAGE_LINE_TEXT = 'Write one page and its points per line, e.g. "/pricing 10".';
export const CUSTOM_EVENT_LINE_TEXT = 'Write one event name and its points per line, e.g. "demo_requested 40".';

type FormErrors = Record<string, string>;

const lines = (text: string | undefined) => (text ?? '').split(/\r?\n|,/).map((line) => line.trim()).filter(Boolean);

/** "<name> <points>" lines; the first line that is not one is reported beside its field. */
function namedPoints(text: string | undefined, blockId: string, problem: string, errors: FormErrors): Array<[string, number]> {
  const pairs: Array<[string, number]> = [];
  for (const [index, line] of lines(text).entries()) {
    const match = /^(\S+)\s+(-?\d+(?:\.\d+)?)$/.exec(line);
    if (!match) {
      errors[blockId] ??= `Line ${index + 1} ("${line.slice(0, 40)}"): ${problem}`;
      continue;
    }
    pairs.push([match[1]!, Number(match[2])]);
  }
  return pairs;
}

/**
 * The form, read by block id, as a candidate model; the model's own schema then checks every bound, and
 * its issues (paths are model fields) are shown beside the field they came from.
 */
export function readScoringForm(values: Record<string, string | undefined>): { ok: true; model: ScoringModel } | { ok: false; errors: FormErrors } {
  const errors: FormErrors = {};
  const candidate: Record<string, unknown> = {};
  for (const field of Object.keys(ScoringBlockIds) as Array<keyof typeof ScoringBlockIds>) {
    if (field === 'keyPages' || field === 'comparisonPatterns' || field === 'customEvents') continue;
    const raw = values[ScoringBlockIds[field as NumberField]];
    if (raw === undefined) errors[ScoringBlockIds[field]] = 'Give a number.';
    else if (!/^-?\d+(\.\d+)?$/.test(raw)) errors[ScoringBlockIds[field]] = `"${raw.slice(0, 20)}" is not a number.`;
    else candidate[field] = Number(raw);
  }
  candidate.keyPages = namedPoints(values[ScoringBlockIds.keyPages], ScoringBlockIds.keyPages, KEY_PAGE_LINE_TEXT, errors).map(([pattern, points]) => ({ pattern, points }));
  candidate.comparisonPatterns = lines(values[ScoringBlockIds.comparisonPatterns]);
  const events = namedPoints(values[ScoringBlockIds.customEvents], ScoringBlockIds.customEvents, CUSTOM_EVENT_LINE_TEXT, errors);
  candidate.customEvents = Object.fromEntries(events);
  if (new Set(events.map(([name]) => name)).size < events.length) errors[ScoringBlockIds.customEvents] ??= 'Each event once.';

  const parsed = ScoringModelSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0]) as keyof typeof ScoringBlockIds;
      const blockId = ScoringBlockIds[field] ?? ScoringBlockIds.alertThreshold;
      // Lists say which entry: "/pri cing: A page pattern is…".
      const entry = issue.path.length > 1 ? listEntry(candidate[field], issue.path[1]) : undefined;
      errors[blockId] ??= entry ? `${entry}: ${issue.message}` : issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, model: parsed.data };
}

function listEntry(list: unknown, key: PropertyKey | undefined): string | undefined {
  if (Array.isArray(list) && typeof key === 'number') {
    const item: unknown = list[key];
    return typeof item === 'string' ? item : (item as { pattern?: string } | undefined)?.pattern;
  }
  return typeof key === 'string' ? key : undefined;
}

type ViewSubmission = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

/** Save of the scoring form: validated beside the fields, admins only (checked again), saved and audited with what changed. */
export async function submitScoringModal(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const form = readScoringForm(readInputValues(view.state.values as StateValues));
  if (!form.ok) {
    await ack({ response_action: 'errors', errors: form.errors });
    return;
  }
  try {
    await requireRole(services, teamId, userId, ['admin'], 'Changing the scoring model');
  } catch (error) {
    if (!(error instanceof PermissionDeniedError)) throw error;
    await ack({ response_action: 'errors', errors: { [ScoringBlockIds.alertThreshold]: error.message } });
    return;
  }
  await services.sql.begin(async (tx) => {
    const before = await loadScoringModel(tx, teamId);
    await saveScoringModelDocument(tx, teamId, form.model, userId);
    const changed = changesBetween(before, form.model);
    if (Object.keys(changed).length > 0) await recordAudit(tx, { teamId, actorUserId: userId, action: 'scoring.changed', details: changed });
  });
  await ack({ response_action: 'update', view: buildScoringSavedModal(form.model) });
  services.logger.info({ teamId, userId }, 'scoring model saved');
}

/** `{ clickPoints: { from: 5, to: 8 } }` for each field that changed. */
function changesBetween(before: ScoringModel, after: ScoringModel): Record<string, { from: unknown; to: unknown }> {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as Array<keyof ScoringModel>) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed[key] = { from: before[key], to: after[key] };
  }
  return changed;
}
