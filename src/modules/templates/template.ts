import { z } from 'zod';

/** The buying stages a template can be written for (a lead's `customer` stage has no nurture content). */
export const TEMPLATE_STAGES = ['awareness', 'consideration', 'decision'] as const;
export const TemplateStageSchema = z.enum(TEMPLATE_STAGES, { message: `stage is one of ${TEMPLATE_STAGES.join(', ')}` });
export type TemplateStage = z.infer<typeof TemplateStageSchema>;

/** What a person writes: Markdown with Liquid merge fields (`{{ first_name | default: "there" }}`). */
export interface TemplateContent {
  name: string;
  stage: TemplateStage;
  subject: string;
  /** The line mail clients show after the subject; may be empty. */
  preheader: string;
  body: string;
}

/** The lead fields a template may use. `attributes.<name>` reads the lead's own attributes. */
export interface MergeLead {
  id: number;
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  title: string | null;
  industry: string | null;
  stage: string;
  attributes: Record<string, unknown>;
}

/** Who sends, for the From name and the footer every marketing email carries. */
export interface EmailFooter {
  senderName: string;
  /** Required by anti-spam law in the US and Japan. */
  postalAddress: string;
  /** The lead's own unsubscribe page (GET /u/<token>). */
  unsubscribeUrl: string;
}

export interface RenderedEmail {
  subject: string;
  preheader: string;
  html: string;
  text: string;
}

/** A template parsed once, rendered per lead many times (a 100-email chunk renders 100 times). */
export interface CompiledTemplate {
  readonly content: TemplateContent;
  render(lead: MergeLead, footer: EmailFooter): RenderedEmail;
}
