import { z } from 'zod';

export const LEAD_STAGES = ['awareness', 'consideration', 'decision', 'customer'] as const;

/** "HH:MM", 24-hour, in the workspace's time zone. */
const ClockTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'A time such as 19:00 (24-hour).');

/**
 * How one channel takes hot-lead alerts (/nurture alerts run in it). Stored as a document
 * (alert_channels.settings); every field has a default so older documents read as defaults plus choices.
 */
export const AlertChannelSettingsSchema = z.object({
  /** Alert when a score crosses this upward; null: the workspace's scoring model's alert threshold. */
  threshold: z.number().int().min(1).max(10_000).nullable().default(null),
  /** Only leads in this segment; null: any lead. */
  segmentId: z.number().int().positive().nullable().default(null),
  /** Whose leads: anyone's, only leads nobody owns yet, or leads owned by the people listed. */
  owner: z.enum(['any', 'unowned', 'listed']).default('any'),
  ownerUserIds: z.array(z.string().regex(/^[UW][A-Z0-9]+$/)).max(20).default([]),
  /** Leads in these buying stages (customers are left out unless chosen). */
  stages: z.array(z.enum(LEAD_STAGES)).min(1, 'Pick at least one stage.').default(['awareness', 'consideration', 'decision']),
  /** Alerts raised in quiet hours wait until they end; null: none. May wrap midnight (19:00–08:00). */
  quietHours: z.object({ from: ClockTimeSchema, to: ClockTimeSchema }).nullable().default(null),
  /** Saturdays and Sundays are quiet all day. */
  quietWeekends: z.boolean().default(false),
  /** A lead alerted (in any channel) is not alerted again for this many days. */
  coolDownDays: z.number().int().min(1).max(30).default(3),
  /** A reminder in the alert's thread when nobody has claimed it after this many minutes; null: none. */
  remindAfterMinutes: z.number().int().min(5).max(24 * 60).nullable().default(30),
  /** Claiming pauses the lead's automated nurture for this many days. */
  claimHoldDays: z.number().int().min(1).max(90).default(14),
  /** The template that prefills Email 1:1; null: a built-in short follow-up. */
  followUpTemplateId: z.number().int().positive().nullable().default(null),
});
export type AlertChannelSettings = z.infer<typeof AlertChannelSettingsSchema>;

export const DEFAULT_ALERT_CHANNEL_SETTINGS: AlertChannelSettings = AlertChannelSettingsSchema.parse({});
