import type { Queryable } from '../../db/client.ts';
import type { Services } from '../../services.ts';
import type { CompiledTemplate } from '../templates/template.ts';

/** Batches of one source failing one after another (each after its own retries) before the send pauses itself. */
export const FAILURE_STREAK_LIMIT = 5;

/** What kind of thing an email in the send ledger was sent for (email_sends.source_kind). */
export const SOURCE_KINDS = ['newsletter', 'sequence', 'one_to_one'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/**
 * What the one delivery road asks of each kind of email (newsletters now, sequences next). The chunk job
 * owns the ledger, the limiter, suppression and caps; the source owns its content, its status and what
 * its people see in Slack. Listed in the composition root (Services.emailSources).
 */
export interface EmailSourceKind {
  readonly kind: SourceKind;
  /** What rows of this source need to be sent now, or why they must wait or be dropped. Called once per chunk. */
  prepare(sql: Queryable, teamId: string, sourceId: number): Promise<PreparedSource>;
  /**
   * After a chunk's batch call ended, one way or another: update progress, finish the send when nothing is
   * left, and keep the failure streak (a success resets it). Returns quickly: Slack updates go to a queue.
   */
  chunkSettled(services: Services, teamId: string, sourceId: number, outcome: ChunkOutcome): Promise<void>;
  /** The pipeline cannot go on for now (quota used up, Resend refusing every call): pause and tell the owner. */
  pause(services: Services, teamId: string, sourceId: number, reason: string): Promise<void>;
  /** Labels for the events recorded about its emails (opens, clicks…): `message` (template), `sequence`. */
  labels(sql: Queryable, teamId: string, sourceId: number, step: number): Promise<EmailLabels>;
}

export interface EmailLabels {
  message: string;
  sequence?: string;
}

/** How a source's emails are made: the same for a send and for settling a cancelled send's batch in flight. */
export interface SourceContent {
  /**
   * Newsletters skip a capped lead (a late broadcast is worse than none); sequences defer the step; a
   * rep's 1:1 email is never held by the cap but counts toward it ('count').
   */
  capPolicy: 'skip' | 'defer' | 'count';
  /** The template of a step (newsletters: step 0); undefined: the step is gone, its rows fail. */
  template(step: number): CompiledTemplate | undefined;
  senderName: string;
  postalAddress: string;
  /** Where replies go, when not to the sender address (sequences may name a person). */
  replyTo?: string;
}

export type PreparedSource =
  | ({ action: 'send' } & SourceContent)
  /**
   * Cancelled or expired: rows not yet handed to Resend are marked cancelled. A batch an earlier attempt
   * handed over is still resent unchanged under its key, only to learn its fate (nothing goes out twice).
   */
  | ({ action: 'cancel'; reason: string } & SourceContent)
  /** Paused: rows stay where they are until the source resumes and re-enqueues its chunks. */
  | { action: 'hold'; reason: string };

export type ChunkOutcome =
  | { kind: 'sent'; accepted: number; failed: number; suppressed: number; capped: number }
  | { kind: 'failed'; reason: string };

export type EmailSources = ReadonlyMap<SourceKind, EmailSourceKind>;

/**
 * Why a source pauses itself when this outcome left its failure streak at `streak` (undefined: the source
 * is gone), or undefined when it goes on: only a failed batch that brings the streak to the limit pauses it.
 */
export function failureStreakPauseReason(outcome: ChunkOutcome, streak: number | undefined): string | undefined {
  if (outcome.kind !== 'failed' || streak === undefined || streak < FAILURE_STREAK_LIMIT) return undefined;
  return `${streak} batches in a row could not be sent. The last one: ${outcome.reason}`;
}
