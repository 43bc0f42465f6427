import type { Queryable } from '../../db/client.ts';
import type { MergeLead, TemplateContent, TemplateStage } from './template.ts';

export { SAMPLE_LEAD } from './sample-lead.ts';

export interface TemplateRow {
  id: number;
  name: string;
  stage: TemplateStage;
  subject: string;
  preheader: string;
  body: string;
  created_by: string;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, stage, subject, preheader, body, created_by, updated_by, created_at, updated_at';

/** What a stored template says, for compileTemplate. */
export function templateContentOf(row: TemplateRow): TemplateContent {
  return { name: row.name, stage: row.stage, subject: row.subject, preheader: row.preheader, body: row.body };
}

/** Names are unique per workspace regardless of case (templates_name_per_team). */
export async function findTemplateByName(sql: Queryable, teamId: string, name: string): Promise<TemplateRow | undefined> {
  const [row] = await sql<TemplateRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM templates WHERE team_id = ${teamId} AND lower(name) = lower(${name})`;
  return row;
}

export async function findTemplateById(sql: Queryable, teamId: string, id: number): Promise<TemplateRow | undefined> {
  const [row] = await sql<TemplateRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM templates WHERE team_id = ${teamId} AND id = ${id}`;
  return row;
}

export async function listTemplates(sql: Queryable, teamId: string): Promise<TemplateRow[]> {
  return sql<TemplateRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM templates WHERE team_id = ${teamId} ORDER BY lower(name)`;
}

/** Undefined when the workspace already has a template of that name. */
export async function insertTemplate(sql: Queryable, teamId: string, userId: string, content: TemplateContent): Promise<TemplateRow | undefined> {
  const [row] = await sql<TemplateRow[]>`
    INSERT INTO templates (team_id, name, stage, subject, preheader, body, created_by, updated_by)
    VALUES (${teamId}, ${content.name}, ${content.stage}, ${content.subject}, ${content.preheader}, ${content.body}, ${userId}, ${userId})
    ON CONFLICT (team_id, lower(name)) DO NOTHING
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** Undefined when the template is gone. A name taken by another template fails on templates_name_per_team. */
export async function updateTemplate(sql: Queryable, teamId: string, id: number, userId: string, content: TemplateContent): Promise<TemplateRow | undefined> {
  const [row] = await sql<TemplateRow[]>`
    UPDATE templates SET name = ${content.name}, stage = ${content.stage}, subject = ${content.subject}, preheader = ${content.preheader},
      body = ${content.body}, updated_by = ${userId}, updated_at = now()
    WHERE team_id = ${teamId} AND id = ${id}
    RETURNING ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** A lead as templates see it (a preview or a test for that lead). */
export async function findMergeLead(sql: Queryable, teamId: string, leadId: number): Promise<MergeLead | undefined> {
  const [row] = await sql<MergeLead[]>`
    SELECT id, email, first_name, last_name, company, title, industry, stage, attributes FROM leads WHERE team_id = ${teamId} AND id = ${leadId}`;
  return row;
}
