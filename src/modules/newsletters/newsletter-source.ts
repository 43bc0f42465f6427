import type { Queryable } from '../../db/client.ts';
import { failureStreakPauseReason, type EmailSourceKind, type PreparedSource, type SourceContent } from '../delivery/email-source.ts';
import { compileTemplate } from '../templates/compile-template.ts';
import type { CompiledTemplate } from '../templates/template.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { NURTURE_ACTOR } from './newsletter.ts';
import { changeNewsletter, newsletterContent, newsletterState, newsletterTemplateName, recordChunkResult } from './queries.ts';
import { requestCardUpdate } from './update-newsletter-card-queue.ts';

export const pausedDmText = (newsletterId: number, templateName: string, channelId: string, reason: string) =>
  `:double_vertical_bar: Your newsletter #${newsletterId} "${templateName}" paused itself: ${reason}\nNothing more goes out until a marketer or admin presses *Resume* on its card in <#${channelId}>.`;

/**
 * What each newsletter sends, compiled: its content never changes after the plan (it is what was
 * approved), and every chunk asks, so each process compiles it once. Bounded: oldest out first.
 */
const compiled = new Map<string, Omit<SourceContent, 'capPolicy' | 'template'> & { step0: CompiledTemplate }>();
const COMPILED_KEPT = 50;

async function contentFor(sql: Queryable, teamId: string, newsletterId: number): Promise<SourceContent | undefined> {
  const key = `${teamId}:${newsletterId}`;
  let entry = compiled.get(key);
  if (!entry) {
    const content = await newsletterContent(sql, teamId, newsletterId);
    if (!content) return undefined;
    entry = { step0: compileTemplate(content.template), senderName: content.senderName, postalAddress: content.postalAddress };
    compiled.set(key, entry);
    if (compiled.size > COMPILED_KEPT) compiled.delete(compiled.keys().next().value!);
  }
  const { step0, senderName, postalAddress } = entry;
  return { capPolicy: 'skip', template: (step) => (step === 0 ? step0 : undefined), senderName, postalAddress };
}

/** Newsletters in the delivery pipeline (listed in src/modules/delivery/email-sources.ts). */
export const newsletterSource: EmailSourceKind = {
  kind: 'newsletter',

  async prepare(sql, teamId, newsletterId): Promise<PreparedSource> {
    const state = await newsletterState(sql, teamId, newsletterId);
    if (!state) return { action: 'hold', reason: 'the newsletter no longer exists' };
    if (state.status === 'paused') return { action: 'hold', reason: state.pause_reason ?? 'paused' };
    // Its rows are written when it starts: a chunk of one not started is a leftover of nothing.
    if (state.status === 'awaiting_approval' || state.status === 'scheduled') return { action: 'hold', reason: `the newsletter is ${state.status}` };
    const content = await contentFor(sql, teamId, newsletterId);
    if (!content) return { action: 'hold', reason: 'the newsletter no longer exists' };
    if (state.status === 'sending') return { action: 'send', ...content };
    // Cancelled (or, should it ever happen, finished with rows left): what was not handed over stays unsent.
    return { action: 'cancel', reason: `the newsletter was ${state.status === 'sent' ? 'finished' : state.status}`, ...content };
  },

  async chunkSettled(services, teamId, newsletterId, outcome) {
    const streak = await recordChunkResult(services.sql, teamId, newsletterId, outcome.kind === 'failed');
    const pauseReason = failureStreakPauseReason(outcome, streak);
    if (pauseReason) await newsletterSource.pause(services, teamId, newsletterId, pauseReason);
    // Progress and the end of the send are the card job's: at most one every ~2 s, however fast chunks settle.
    await requestCardUpdate(services, teamId, newsletterId);
  },

  async pause(services, teamId, newsletterId, reason) {
    const paused = await services.sql.begin(async (tx) => {
      const row = await changeNewsletter(tx, teamId, newsletterId, ['sending'], { status: 'paused', pause_reason: reason });
      if (row) await recordAudit(tx, { teamId, actorUserId: NURTURE_ACTOR, action: 'newsletter.paused', subject: String(newsletterId), details: { reason } });
      return row;
    });
    if (!paused) return;
    services.logger.warn({ teamId, newsletterId, reason }, 'newsletter paused itself');
    await services.slack.chat
      .postMessage({ channel: paused.requested_by, text: pausedDmText(newsletterId, paused.content.template.name, paused.channel_id, reason) })
      .catch((error) => services.logger.error({ err: error, teamId, newsletterId }, 'could not tell the requester the newsletter paused'));
    await requestCardUpdate(services, teamId, newsletterId);
  },

  async labels(sql, teamId, newsletterId) {
    return { message: (await newsletterTemplateName(sql, teamId, newsletterId)) ?? `newsletter #${newsletterId}` };
  },
};
