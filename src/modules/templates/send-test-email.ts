import { LiquidError } from 'liquidjs';
import type { Services } from '../../services.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';
import { sendOneEmail } from '../delivery/send-one-email.ts';
import { unsubscribeHeaders } from '../unsubscribes/unsubscribe-headers.ts';
import { unsubscribeToken } from '../unsubscribes/unsubscribe-token.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { emailSender } from './email-sender.ts';
import { isSampleLead, SAMPLE_LEAD } from './sample-lead.ts';
import type { CompiledTemplate, MergeLead } from './template.ts';

export interface TestEmailRequest {
  teamId: string;
  /** The person asking: the test goes to their own address, as Slack has it. */
  userId: string;
  template: CompiledTemplate;
  /** Rendered for this lead; the sample person when left out. */
  lead?: MergeLead;
  /** The sender a planned send froze (a newsletter's snapshot); the workspace's current one when left out. */
  sender?: { name: string; postalAddress: string };
}

/** `text` is the reply for the person, ready to post (mrkdwn). */
export type TestEmailResult = { ok: true; to: string; text: string } | { ok: false; text: string };

export const TEST_SUBJECT_PREFIX = '[Test] ';

/** In the footer of a test while the workspace has no postal address: the test goes out, real sends don't. */
export const POSTAL_ADDRESS_MISSING_FOOTER = '[Postal address not set yet: an admin sets it with /nurture settings before any real email can go out]';

export const noSlackEmailText =
  ':x: I couldn’t send you a test: Slack didn’t give me your email address. Add one to your Slack profile, or ask an admin to reinstall Nurture so it may read email addresses (the `users:read.email` permission).';

export const testSentText = (name: string, to: string) => `:email: Sent a test of *${escapeMrkdwn(name)}* to ${escapeMrkdwn(to)}.`;

export const noPostalAddressWarning =
  ':warning: Your workspace has no postal address yet, so the footer of this test says so, and real sends are refused until an admin sets it with `/nurture settings`.';

export const testFailedText = (name: string, reason: string) => `:x: I couldn’t send the test of *${escapeMrkdwn(name)}*: ${escapeMrkdwn(reason)}`;

/**
 * "Send me a test": renders the template for the lead (or the sample person) and sends it to the person
 * asking, through the same transport and rate limit as every email, with "[Test] " before the subject.
 * The caller checks the person's role. Newsletters use this for their own "Send test".
 *
 * The unsubscribe link is the lead's real one (its page only asks; nothing changes without a click
 * there) or, for the sample person, `/u/test`, which the unsubscribe route answers with its "link not
 * valid" page. No List-Unsubscribe headers: the tester's mail client could unsubscribe the lead with one click.
 */
export async function sendTestEmail(services: Services, request: TestEmailRequest): Promise<TestEmailResult> {
  const { teamId, userId, template } = request;
  const name = template.content.name;
  const log = services.logger.child({ teamId, userId, template: name });
  const to = await slackEmailOf(services, userId);
  if (!to) return { ok: false, text: noSlackEmailText };

  const lead = request.lead ?? SAMPLE_LEAD;
  const sample = isSampleLead(lead);
  const settings = await getWorkspaceSettings(services.sql, teamId);
  const sender = emailSender(services.config, request.sender ? { senderName: request.sender.name } : settings);
  const postalAddress = request.sender?.postalAddress ?? settings.postalAddress;
  const unsubscribeUrl = sample
    ? `${services.config.publicUrl}/u/test`
    : unsubscribeHeaders(services.config, unsubscribeToken(services.config.trackingSecret, { teamId, leadId: lead.id })).url;

  let rendered;
  try {
    rendered = template.render(lead, { senderName: sender.name, postalAddress: postalAddress ?? POSTAL_ADDRESS_MISSING_FOOTER, unsubscribeUrl });
  } catch (error) {
    if (!(error instanceof LiquidError)) throw error;
    log.warn({ err: error, leadId: lead.id }, 'test email did not render');
    return { ok: false, text: testFailedText(name, `it did not render for this lead (${error.message})`) };
  }

  const sent = await sendOneEmail(services, { from: sender.from, to, subject: `${TEST_SUBJECT_PREFIX}${rendered.subject}`, html: rendered.html, text: rendered.text }, { teamId });
  if (!sent.ok) {
    log.warn({ error: sent.error }, 'test email refused');
    return { ok: false, text: testFailedText(name, sent.error) };
  }
  await recordAudit(services.sql, {
    teamId,
    actorUserId: userId,
    action: 'template.test_sent',
    subject: name,
    details: { stage: template.content.stage, lead_id: sample ? null : lead.id, sample, provider_id: sent.id },
  });
  log.info({ providerId: sent.id, leadId: sample ? undefined : lead.id }, 'test email sent');
  const text = testSentText(name, to);
  return { ok: true, to, text: postalAddress ? text : `${text}\n${noPostalAddressWarning}` };
}

/** The person's address from their Slack profile (needs users:read.email); undefined when Slack has none. */
async function slackEmailOf(services: Services, userId: string): Promise<string | undefined> {
  const { user } = await services.slack.users.info({ user: userId });
  const email = user?.profile?.email?.trim();
  return email ? email : undefined;
}
