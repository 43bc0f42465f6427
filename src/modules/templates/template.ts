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

/**
 * Open and click tracking for one email (src/modules/tracking/email-tracking.ts builds it). Without it
 * (previews, test sends) links stay as written and there is no pixel.
 */
export interface EmailTracking {
  /** Where a link to `url` (an http(s) address, as the lead would have seen it) points instead. */
  clickUrl(url: string): string;
  /** The open pixel's address. */
  pixelUrl: string;
  /** A link no person sees: whatever follows it is a machine. */
  hiddenLinkUrl: string;
}

/** A template parsed once, rendered per lead many times (a 100-email chunk renders 100 times). */
export interface CompiledTemplate {
  readonly content: TemplateContent;
  /** Identifies this content (a hash of it): click tracking checks a link belongs to the email's version. */
  readonly version: string;
  /** Link addresses without merge fields: their tracking tokens are the same for every email. */
  readonly staticUrls: ReadonlySet<string>;
  /** Distinct tracked links in the body. */
  readonly linkCount: number;
  render(lead: MergeLead, footer: EmailFooter, tracking?: EmailTracking): RenderedEmail;
}
