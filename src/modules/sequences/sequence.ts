import { z } from 'zod';
import { LEAD_STAGES } from '../leads/lead-input.ts';

/**
 * A sequence and its parts as stored (migrations/0010_sequences.sql) and validated at every boundary:
 * the builder modal, slash-command text, and the JSON columns read back.
 */

export const SEQUENCE_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type SequenceStatus = (typeof SEQUENCE_STATUSES)[number];

export const EventName = z.string().trim().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'event names look like resource_download');

/** What enrolls a lead: entering a segment, a behaviour event arriving through the API, or a person. */
export const TriggerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('segment'), segmentId: z.number().int().positive() }),
  z.object({
    kind: z.literal('event'),
    name: EventName,
    /** The event's properties must include these, e.g. { asset: 'whitepaper-x' }. */
    properties: z.record(z.string().max(64), z.union([z.string().max(200), z.number(), z.boolean()])).default({}),
  }),
  z.object({ kind: z.literal('manual') }),
]);
export type Trigger = z.infer<typeof TriggerSchema>;

const WallClock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'times are written HH:MM, e.g. 09:00');
export const HOLIDAY_CALENDARS = ['jp'] as const;

/**
 * When steps may go out, on the lead's own clock (the workspace zone when the lead's is unknown):
 * ISO weekdays (1 = Monday … 7 = Sunday), a daily start and end, and optionally a holiday calendar
 * whose days are skipped. A step due outside the window goes out at the next opening.
 */
export const SendWindowSchema = z
  .object({
    days: z.array(z.number().int().min(1).max(7)).min(1, 'pick at least one day').max(7),
    start: WallClock,
    end: WallClock,
    holidays: z.enum(HOLIDAY_CALENDARS).nullable().default(null),
  })
  .refine((window) => window.start < window.end, { message: 'the window must end after it starts', path: ['end'] });
export type SendWindow = z.infer<typeof SendWindowSchema>;

/** Weekdays 9:00–17:00, no holiday calendar: what a new sequence starts with. */
export const DEFAULT_SEND_WINDOW: SendWindow = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', holidays: null };

/** Only send the step when this holds at its time; otherwise the step is skipped and the run moves on. */
export const StepConditionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('previous_not_clicked') }),
  z.object({ kind: z.literal('previous_not_opened') }),
  z.object({ kind: z.literal('stage'), stages: z.array(z.enum(LEAD_STAGES)).min(1) }),
  /** Skip if the lead visited a page (path pattern, `*` matches anything) in the last `days` days. */
  z.object({ kind: z.literal('not_visited'), url: z.string().trim().regex(/^\/\S{0,300}$/, 'page patterns start with / , e.g. /pricing'), days: z.number().int().min(1).max(365).default(30) }),
]);
export type StepCondition = z.infer<typeof StepConditionSchema>;

export const DELAY_FROM = ['enrollment', 'previous'] as const;
export type DelayFrom = (typeof DELAY_FROM)[number];

/** The longest delay a step may have: a year. */
export const MAX_DELAY_MINUTES = 525_600;

export interface SequenceStep {
  /** Stable across edits and reordering: the step's identity in the ledger (email_sends.source_step). */
  id: number;
  position: number;
  templateId: number;
  delayMinutes: number;
  delayFrom: DelayFrom;
  condition: StepCondition | null;
}

export interface Sequence {
  id: number;
  teamId: string;
  name: string;
  goal: string | null;
  /** A custom event that ends a lead's run: the goal was reached. */
  goalEvent: string | null;
  trigger: Trigger;
  sendWindow: SendWindow;
  senderName: string | null;
  replyTo: string | null;
  /** null: never again; N: again N days after the lead's last run ended. */
  reenrollAfterDays: number | null;
  status: SequenceStatus;
  /** Live steps in order (removed ones are not listed). */
  steps: SequenceStep[];
}

export const RUN_STATUSES = ['active', 'completed', 'exited'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Why a run ended before its last step (sequence_runs.exit_reason). */
export const EXIT_REASONS = ['unsubscribed', 'bounced', 'complained', 'goal', 'customer', 'removed', 'archived', 'erased'] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];
