import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { recordAudit, touchWorkspace } from '../workspaces/queries.ts';
import { findTemplateByName, insertTemplate, updateTemplate, type TemplateRow } from './queries.ts';
import { TemplateStageSchema, type TemplateContent } from './template.ts';
import { validateTemplate, type TemplateField } from './validate-template.ts';

/** Limits of the templates table (migrations/0009_delivery.sql). */
export const TEMPLATE_LIMITS = { name: 80, subject: 250, preheader: 250, body: 50_000 } as const;

export const TemplateDraftSchema = z.object({
  name: z.string({ message: 'give the template a name' }).trim().min(1, 'give the template a name').max(TEMPLATE_LIMITS.name, `names are at most ${TEMPLATE_LIMITS.name} characters`),
  stage: TemplateStageSchema,
  subject: z.string({ message: 'write a subject' }).trim().min(1, 'write a subject').max(TEMPLATE_LIMITS.subject, `subjects are at most ${TEMPLATE_LIMITS.subject} characters`),
  preheader: z.string().trim().max(TEMPLATE_LIMITS.preheader, `preheaders are at most ${TEMPLATE_LIMITS.preheader} characters`).default(''),
  body: z
    .string({ message: 'write the body' })
    .max(TEMPLATE_LIMITS.body, `bodies are at most ${TEMPLATE_LIMITS.body.toLocaleString('en-US')} characters`)
    .refine((body) => body.trim() !== '', 'write the body')
    .transform((body) => body.replace(/\s+$/, '')),
});
/** A draft as typed: any field may be missing (Slack leaves out empty inputs). */
export type TemplateDraft = { [Field in keyof z.input<typeof TemplateDraftSchema>]?: string };

export type DraftField = 'name' | 'stage' | TemplateField;

/** What is wrong with one field, in words for the person (shown under that field). */
export interface DraftProblem {
  field: DraftField;
  message: string;
}

/** A draft as typed: its shape (zod), then its Liquid (line and reason of every problem). */
export function checkTemplateDraft(draft: TemplateDraft): { ok: true; content: TemplateContent } | { ok: false; problems: DraftProblem[] } {
  const parsed = TemplateDraftSchema.safeParse(draft);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => ({ field: issue.path[0] as DraftField, message: sentence(issue.message) })) };
  }
  const problems = validateTemplate(parsed.data);
  if (problems.length > 0) return { ok: false, problems: problems.map((problem) => ({ field: problem.field, message: sentence(`line ${problem.line}: ${problem.reason}`) })) };
  return { ok: true, content: parsed.data };
}

const sentence = (text: string) => {
  const trimmed = text.trim().replace(/\.$/, '');
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}.`;
};

export const templateNameTakenText = (name: string) =>
  `There is already a template called "${name}". Pick another name, or change that one with \`/nurture template edit ${name}\`.`;
export const TEMPLATE_GONE_TEXT = 'That template no longer exists. `/nurture template list` shows the templates there are.';

/** Refused for the name: another template of the workspace has it. */
export class TemplateNameTakenError extends UsageError {
  override name = 'TemplateNameTakenError';
}

export async function createTemplate(services: Services, teamId: string, userId: string, content: TemplateContent): Promise<TemplateRow> {
  return services.sql.begin(async (tx) => {
    await touchWorkspace(tx, teamId);
    const row = await insertTemplate(tx, teamId, userId, content);
    if (!row) throw new TemplateNameTakenError(templateNameTakenText(content.name));
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'template.created', subject: String(row.id), details: { name: row.name, stage: row.stage } });
    return row;
  });
}

export async function changeTemplate(services: Services, teamId: string, userId: string, id: number, content: TemplateContent): Promise<TemplateRow> {
  try {
    return await services.sql.begin(async (tx) => {
      const clash = await findTemplateByName(tx, teamId, content.name);
      if (clash && clash.id !== id) throw new TemplateNameTakenError(templateNameTakenText(content.name));
      const row = await updateTemplate(tx, teamId, id, userId, content);
      if (!row) throw new UsageError(TEMPLATE_GONE_TEXT);
      await recordAudit(tx, { teamId, actorUserId: userId, action: 'template.changed', subject: String(id), details: { name: row.name, stage: row.stage } });
      return row;
    });
  } catch (error) {
    // Two people renaming two templates to one name at once: the unique index decides.
    if (isUniqueViolation(error)) throw new TemplateNameTakenError(templateNameTakenText(content.name));
    throw error;
  }
}

const isUniqueViolation = (error: unknown) => typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505';
