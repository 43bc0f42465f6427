import type { Services } from '../../services.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';
import type { EmailSourceKind, PreparedSource } from '../delivery/email-source.ts';
import type { LedgerState } from '../delivery/ledger-queries.ts';
import { recentWorkspaceSettings } from '../workspaces/settings.ts';
import { compileOneToOne } from './one-to-one-template.ts';
import { failOneToOneSend, findOneToOne, oneToOneFate, type OneToOneFate } from './queries.ts';

export const notSentDmText = (lead: string, subject: string, reason: string) =>
  `:x: Your 1:1 email to *${escapeMrkdwn(lead)}* (“${escapeMrkdwn(subject)}”) could not be sent: ${escapeMrkdwn(reason)}`;

/** Ledger states in which the email did not go and never will (the cap never holds it). */
const NOT_SENT_STATES: ReadonlySet<LedgerState> = new Set(['failed', 'suppressed', 'cancelled']);

/**
 * Reps' 1:1 emails in the delivery pipeline (listed in src/modules/delivery/email-sources.ts): the stored
 * row's words, in the rep's name with their reply-to and the workspace's footer. The frequency cap counts
 * them but never holds them ('count'); suppression applies as to any email. One email has no send to
 * pause: when it cannot go, its sender hears why by DM.
 */
export const oneToOneSource: EmailSourceKind = {
  kind: 'one_to_one',

  async prepare(sql, teamId, id): Promise<PreparedSource> {
    const email = await findOneToOne(sql, teamId, id);
    // Erasing the lead takes its 1:1 emails and their ledger rows with it.
    if (!email) return { action: 'hold', reason: 'the 1:1 email no longer exists' };
    const settings = await recentWorkspaceSettings(sql, teamId);
    // Checked when it was written; should the address be cleared since, nothing goes out without the footer.
    if (!settings.postalAddress) return { action: 'hold', reason: 'the workspace has no postal address' };
    const template = compileOneToOne(email);
    return {
      action: 'send',
      capPolicy: 'count',
      template: (step) => (step === 0 ? template : undefined),
      senderName: email.senderName,
      postalAddress: settings.postalAddress,
      replyTo: email.replyTo,
    };
  },

  async chunkSettled(services, teamId, id, outcome) {
    // The job is retried under the same key: the email may still go.
    if (outcome.kind === 'failed') {
      services.logger.warn({ teamId, oneToOneId: id, reason: outcome.reason }, '1:1 email not sent yet; its job retries');
      return;
    }
    if (outcome.accepted > 0) return;
    const fate = await oneToOneFate(services.sql, teamId, id);
    if (fate && NOT_SENT_STATES.has(fate.state)) await tellSender(services, teamId, id, fate, fate.reason ?? `it was ${fate.state}`);
  },

  async pause(services, teamId, id, reason) {
    await failOneToOneSend(services.sql, teamId, id, reason);
    const fate = await oneToOneFate(services.sql, teamId, id);
    if (fate) await tellSender(services, teamId, id, fate, reason);
  },

  async labels(sql, teamId, id) {
    const email = await findOneToOne(sql, teamId, id);
    return { message: email ? `1:1 “${email.subject}”` : `1:1 email #${id}` };
  },
};

async function tellSender(services: Services, teamId: string, id: number, fate: OneToOneFate, reason: string): Promise<void> {
  services.logger.warn({ teamId, oneToOneId: id, state: fate.state, reason }, '1:1 email could not be sent');
  await services.slack.chat
    .postMessage({ channel: fate.senderUser, text: notSentDmText(fate.leadName ?? fate.leadEmail ?? 'the lead', fate.subject, reason) })
    .catch((error: unknown) => services.logger.error({ err: error, teamId, oneToOneId: id }, 'could not tell the sender their 1:1 email was not sent'));
}
