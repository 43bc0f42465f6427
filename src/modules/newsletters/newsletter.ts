import { z } from 'zod';
import { TemplateStageSchema, type TemplateContent } from '../templates/template.ts';

export const NEWSLETTER_STATUSES = ['awaiting_approval', 'rejected', 'scheduled', 'sending', 'paused', 'sent', 'cancelled', 'expired'] as const;
export type NewsletterStatus = (typeof NEWSLETTER_STATUSES)[number];

/** Statuses in which a newsletter may still send to its segment: they keep the segment from being deleted. */
export const ACTIVE_STATUSES = ['awaiting_approval', 'scheduled', 'sending', 'paused'] as const satisfies readonly NewsletterStatus[];

/** Who the audit log names for the steps Nurture takes by itself (start, expiry, pause, finish). */
export const NURTURE_ACTOR = 'nurture';

/** The audience when the plan was made, as the approver saw it on the card. */
export const SendPlanSchema = z.object({
  segmentName: z.string(),
  /** Subscribed members of the segment (unsubscribed, bounced and complained leads left out). */
  subscribed: z.number().int(),
  /** Members left out because they unsubscribed, bounced or complained. */
  suppressed: z.number().int(),
  /** Subscribed members the frequency cap would hold back right now (held ones aside). */
  capped: z.number().int(),
  /**
   * Subscribed members a rep claimed from a hot-lead alert: their automated nurture pauses for the claim's
   * hold (lead_nurture_holds), newsletters too, so marketing does not talk over sales. Plans made before
   * this was counted have none.
   */
  held: z.number().int().default(0),
  /** subscribed - held - capped: who would get it if it went out now. The split below is of these. */
  planned: z.number().int(),
  /** The last newsletter sent to this segment, for "the change since". */
  previous: z.object({ startedAt: z.string(), recipients: z.number().int() }).nullable(),
  byStage: z.array(z.object({ stage: z.string(), count: z.number().int() })),
  /** The five biggest industries of the planned audience (industry null: not known)… */
  byIndustry: z.array(z.object({ industry: z.string().nullable(), count: z.number().int() })),
  /** …and everyone in the other industries. */
  otherIndustries: z.number().int(),
  /** Real members whose renders the card shows (by id: a lead erased since simply drops out). */
  sampleLeadIds: z.array(z.number().int()),
});
export type SendPlan = z.infer<typeof SendPlanSchema>;

/**
 * newsletters.content: what goes out is what was approved. The template as it was when the plan was
 * made, the sender as it was then, and the plan the approver saw.
 */
export const NewsletterContentSchema = z.object({
  template: z.object({
    name: z.string(),
    stage: TemplateStageSchema,
    subject: z.string(),
    preheader: z.string(),
    body: z.string(),
  }) satisfies z.ZodType<TemplateContent>,
  senderName: z.string(),
  postalAddress: z.string(),
  plan: SendPlanSchema,
});
export type NewsletterContent = z.infer<typeof NewsletterContentSchema>;

export interface NewsletterRow {
  id: number;
  team_id: string;
  template_id: number | null;
  segment_id: number | null;
  content: NewsletterContent;
  status: NewsletterStatus;
  send_at: Date;
  requested_by: string;
  decided_by: string | null;
  decided_at: Date | null;
  channel_id: string;
  message_ts: string | null;
  planned_count: number;
  recipient_count: number | null;
  started_at: Date | null;
  finished_at: Date | null;
  cancelled_by: string | null;
  pause_reason: string | null;
  failure_streak: number;
  created_at: Date;
  updated_at: Date;
}
