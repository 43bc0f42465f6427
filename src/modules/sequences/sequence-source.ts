import type { Queryable } from '../../db/client.ts';
import { failureStreakPauseReason, type EmailSourceKind, type PreparedSource, type SourceContent } from '../delivery/email-source.ts';
import { compileTemplate } from '../templates/compile-template.ts';
import { findTemplateById, templateContentOf } from '../templates/queries.ts';
import type { CompiledTemplate } from '../templates/template.ts';
import { recentWorkspaceSettings } from '../workspaces/settings.ts';
import { recordSequenceChunkResult, sendingSequence, sequenceFacts, stepLabels, stepTemplates } from './run-queries.ts';
import { NURTURE_ACTOR, pauseBecause } from './sequence-lifecycle.ts';
import { requestDeferredPull } from './tick-sequences-queue.ts';

export const sequencePausedDmText = (name: string, reason: string) =>
  `:double_vertical_bar: Your sequence "${name}" paused itself: ${reason}\nNobody is sent its next steps until a marketer or admin resumes it with \`/nurture sequence resume ${name}\`.`;

/**
 * Compiled step templates, by template id and version (updated_at): a step always sends its template as
 * it is now, and every chunk asks, so each process compiles each version once. Bounded: oldest out first.
 */
const compiled = new Map<string, CompiledTemplate>();
const COMPILED_KEPT = 200;

async function templatesOf(sql: Queryable, teamId: string, sequenceId: number): Promise<Map<number, CompiledTemplate>> {
  const byStep = new Map<number, CompiledTemplate>();
  for (const { stepId, templateId, updatedAt } of await stepTemplates(sql, teamId, sequenceId)) {
    const key = `${teamId}:${templateId}:${updatedAt.getTime()}`;
    let template = compiled.get(key);
    if (!template) {
      const row = await findTemplateById(sql, teamId, templateId);
      if (!row) continue;
      template = compileTemplate(templateContentOf(row));
      compiled.set(key, template);
      if (compiled.size > COMPILED_KEPT) compiled.delete(compiled.keys().next().value!);
    }
    byStep.set(stepId, template);
  }
  return byStep;
}

/**
 * Sequences in the delivery pipeline (listed in src/modules/delivery/email-sources.ts): rows of an active
 * sequence are sent with their step's current template; the frequency cap defers them (the tick lets them
 * go later, never drops them); a paused sequence holds its rows; an archived one cancels them.
 */
export const sequenceSource: EmailSourceKind = {
  kind: 'sequence',

  async prepare(sql, teamId, sequenceId): Promise<PreparedSource> {
    const sequence = await sendingSequence(sql, teamId, sequenceId);
    if (!sequence) return { action: 'hold', reason: 'the sequence no longer exists' };
    if (sequence.status === 'paused' || sequence.status === 'draft') return { action: 'hold', reason: `the sequence is ${sequence.status}` };
    const settings = await recentWorkspaceSettings(sql, teamId);
    const templates = await templatesOf(sql, teamId, sequenceId);
    const content: SourceContent = {
      capPolicy: 'defer',
      template: (stepId) => templates.get(stepId),
      // Empty: the From name falls back to EMAIL_FROM's (send-chunk.ts); activation requires the address.
      senderName: sequence.senderName ?? settings.senderName ?? '',
      postalAddress: settings.postalAddress ?? '',
      ...(sequence.replyTo ? { replyTo: sequence.replyTo } : {}),
    };
    if (sequence.status === 'archived') return { action: 'cancel', reason: 'the sequence was archived', ...content };
    // Activation requires it; should it be cleared later, nothing goes out without the footer the law asks for.
    if (!settings.postalAddress) return { action: 'hold', reason: 'the workspace has no postal address' };
    return { action: 'send', ...content };
  },

  // Cheap on purpose (chunks settle up to 100 times a second): progress is in the ledger, read when asked,
  // and a sent batch writes its failure streak only when there was one to reset.
  async chunkSettled(services, teamId, sequenceId, outcome) {
    const streak = await recordSequenceChunkResult(services.sql, teamId, sequenceId, outcome.kind === 'failed');
    const pauseReason = failureStreakPauseReason(outcome, streak);
    if (pauseReason) await sequenceSource.pause(services, teamId, sequenceId, pauseReason);
    if (outcome.kind === 'sent' && outcome.capped > 0) await requestDeferredPull(services, teamId, sequenceId);
  },

  async pause(services, teamId, sequenceId, reason) {
    const paused = await pauseBecause(services, { teamId, sequenceId, userId: NURTURE_ACTOR }, reason);
    if (!paused.ok) return;
    services.logger.warn({ teamId, sequenceId, reason }, 'sequence paused itself');
    const facts = await sequenceFacts(services.sql, teamId, sequenceId);
    if (!facts) return;
    await services.slack.chat
      .postMessage({ channel: facts.createdBy, text: sequencePausedDmText(paused.sequence.name, reason) })
      .catch((error) => services.logger.error({ err: error, teamId, sequenceId }, 'could not tell the sequence’s creator that it paused'));
  },

  async labels(sql, teamId, sequenceId, stepId) {
    const labels = await stepLabels(sql, teamId, sequenceId, stepId);
    return { message: labels?.template ?? `sequence #${sequenceId} step ${stepId}`, sequence: labels?.sequence ?? `sequence #${sequenceId}` };
  },
};
