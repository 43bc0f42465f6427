import { UsageError } from '../../lib/errors.ts';
import type { Token } from '../../slack/command-text.ts';
import { runVerb, type CommandContext, type Subcommand } from '../../slack/subcommand.ts';
import { parseEmailArgument } from '../leads/lead-subcommand.ts';
import { findLeadByEmail } from '../leads/queries.ts';
import { requireRole } from '../roles/roles.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { bodyTooLongForFormText, noSuchTemplateText, PREVIEW_UNSUBSCRIBE_URL, templateListMessage, templatePreviewMessage } from './build-template-messages.ts';
import { buildTemplateModal, MODAL_BODY_LIMIT } from './build-template-modal.ts';
import { compileTemplate } from './compile-template.ts';
import { emailSender } from './email-sender.ts';
import { findTemplateByName, listTemplates, templateContentOf, type TemplateRow } from './queries.ts';
import { SAMPLE_LEAD } from './sample-lead.ts';
import { POSTAL_ADDRESS_MISSING_FOOTER } from './send-test-email.ts';
import type { MergeLead } from './template.ts';
import { replyEphemeral } from '../../slack/messages.ts';

const USAGE_TEXT =
  'I can `list`, `show`, `new` or `edit` templates, e.g. `/nurture template show "Pricing follow-up"`. `/nurture help template` explains each, and the merge fields.';

const MERGE_FIELD_HELP = [
  '*Writing a template*',
  'The body is Markdown: `# Heading`, `**bold**`, `*italic*`, `- list items`, `1. numbered`, `[link text](https://…)`.',
  'Merge fields put the lead’s data in the subject, preheader and body: `{{ first_name }}`, `{{ last_name }}`, `{{ full_name }}`, `{{ email }}`, `{{ company }}`, `{{ title }}`, `{{ industry }}`, `{{ stage }}`, and the lead’s own attributes as `{{ attributes.plan }}`.',
  'A fallback for empty fields: `{{ first_name | default: "there" }}`. Conditions: `{% if company %}We love {{ company }}.{% endif %}`; on lines of their own they show or hide whole paragraphs.',
  'Lead data is always shown as text, never as HTML. Unknown fields, unknown filters and syntax errors are refused when you save, with the line.',
  'Every email ends with your sender name, postal address (`/nurture settings`) and an unsubscribe link.',
].join('\n');

/**
 * `/nurture template …`. Everyone may list templates and preview them for the sample person (they are
 * the team's marketing copy, like segments); a preview for a real lead shows that lead's data, so it
 * needs the marketer or rep role, as the lead card does. Writing, changing and sending tests take a
 * marketer (or admin).
 */
export const templateSubcommand: Subcommand = {
  name: 'template',
  summary: 'the emails Nurture sends: list and preview templates; marketers and admins write and change them',
  usage: [
    { form: '/nurture template list', example: '/nurture template list', explains: 'every template with its stage, subject and last edit (anyone)' },
    {
      form: '/nurture template show <name> [lead email]',
      example: '/nurture template show "Pricing follow-up" yui@example.co.jp',
      explains: 'a preview for that lead (marketers and reps) or for a sample person (anyone), with "Send me a test"',
    },
    { form: '/nurture template new [<name>]', example: '/nurture template new', explains: 'a form: name, buying stage, subject, preheader, Markdown body (marketers and admins)' },
    { form: '/nurture template edit <name>', example: '/nurture template edit "Pricing follow-up"', explains: 'the same form, filled in (marketers and admins)' },
  ],
  details: MERGE_FIELD_HELP,
  run: (context) =>
    runVerb(
      context,
      {
        list: listCommand,
        show: showCommand,
        preview: showCommand,
        new: newCommand,
        create: newCommand,
        edit: editCommand,
        change: editCommand,
      },
      USAGE_TEXT,
    ),
};


async function listCommand(context: CommandContext) {
  await replyEphemeral(context, templateListMessage(await listTemplates(context.services.sql, context.teamId)));
}

async function showCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId } = context;
  const { template, leadEmail } = await templateAndLead(context, tokens);
  let lead: MergeLead = SAMPLE_LEAD;
  if (leadEmail !== undefined) {
    const email = parseEmailArgument(leadEmail, '/nurture template show <name> <lead email>');
    await requireRole(services, teamId, userId, ['marketer', 'rep'], 'Previewing a template for a lead');
    const found = await findLeadByEmail(services.sql, teamId, email);
    if (!found) throw new UsageError(`There is no lead with the address ${email}. Leave it out to preview for a sample person.`);
    lead = found;
  }
  const settings = await getWorkspaceSettings(services.sql, teamId);
  const email = compileTemplate(templateContentOf(template)).render(lead, {
    senderName: emailSender(services.config, settings).name,
    postalAddress: settings.postalAddress ?? POSTAL_ADDRESS_MISSING_FOOTER,
    unsubscribeUrl: PREVIEW_UNSUBSCRIBE_URL,
  });
  await replyEphemeral(context, templatePreviewMessage({ template, email, lead, sample: lead === SAMPLE_LEAD, postalAddressMissing: settings.postalAddress === null }));
}

async function newCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId, client, triggerId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Writing templates');
  const name = joinName(tokens);
  await client.views.open({ trigger_id: triggerId, view: buildTemplateModal(name ? { initial: { name } } : {}) });
}

async function editCommand(context: CommandContext, tokens: readonly Token[]) {
  const { services, teamId, userId, client, triggerId } = context;
  await requireRole(services, teamId, userId, ['marketer'], 'Changing templates');
  const template = await templateNamed(context, joinName(tokens), 'edit');
  if (template.body.length > MODAL_BODY_LIMIT) throw new UsageError(bodyTooLongForFormText(template.name, template.body.length));
  await client.views.open({ trigger_id: triggerId, view: buildTemplateModal({ templateId: template.id, initial: templateContentOf(template) }) });
}

/** Names may be quoted ("Pricing follow-up") or typed as words. */
const joinName = (tokens: readonly Token[]) => tokens.map((token) => token.value).join(' ').trim();

async function templateNamed(context: CommandContext, name: string, verb: string): Promise<TemplateRow> {
  if (name === '') throw new UsageError(`Say which template: \`/nurture template ${verb} <name>\`. \`/nurture template list\` shows them.`);
  const template = await findTemplateByName(context.services.sql, context.teamId, name);
  if (!template) throw new UsageError(noSuchTemplateText(name));
  return template;
}

/** `show <name> [lead email]`: a last word that looks like an address is the lead, unless the whole text names a template. */
async function templateAndLead(context: CommandContext, tokens: readonly Token[]): Promise<{ template: TemplateRow; leadEmail?: string }> {
  const last = tokens.at(-1)?.value;
  if (tokens.length >= 2 && last !== undefined && last.includes('@')) {
    const whole = await findTemplateByName(context.services.sql, context.teamId, joinName(tokens));
    if (whole) return { template: whole };
    return { template: await templateNamed(context, joinName(tokens.slice(0, -1)), 'show'), leadEmail: last };
  }
  return { template: await templateNamed(context, joinName(tokens), 'show') };
}
