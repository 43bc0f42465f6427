import { z } from 'zod';
import { defineTokenKind, signToken, verifyToken, type TokenFailure } from '../../lib/signed-token.ts';

/**
 * What an unsubscribe link carries: the workspace, the lead and (once the send ledger exists) the send it
 * came from. Ids only: the link is readable by whoever holds it. Short keys keep links short.
 * Unsubscribe links never expire: the law (CAN-SPAM: at least 30 days) and people expect old emails to work.
 */
export const UnsubscribeTokenSchema = z
  .object({
    /** Slack team id. */
    w: z.string().min(1).max(32),
    /** Lead id. */
    l: z.number().int().positive(),
    /** Send ledger id of the email carrying the link. */
    s: z.number().int().positive().optional(),
  })
  .strict();

export const UNSUBSCRIBE_TOKEN = defineTokenKind('unsubscribe', UnsubscribeTokenSchema);

export interface UnsubscribeTarget {
  teamId: string;
  leadId: number;
  sendId?: number;
}

export function unsubscribeToken(trackingSecret: string, target: UnsubscribeTarget): string {
  return signToken(trackingSecret, UNSUBSCRIBE_TOKEN, { w: target.teamId, l: target.leadId, ...(target.sendId !== undefined ? { s: target.sendId } : {}) });
}

export function readUnsubscribeToken(trackingSecret: string, token: string): { ok: true; target: UnsubscribeTarget } | { ok: false; reason: TokenFailure } {
  const result = verifyToken(trackingSecret, UNSUBSCRIBE_TOKEN, token);
  if (!result.ok) return result;
  const { w, l, s } = result.payload;
  return { ok: true, target: s === undefined ? { teamId: w, leadId: l } : { teamId: w, leadId: l, sendId: s } };
}
