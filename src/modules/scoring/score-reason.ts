/** Why a lead scored: what they did, how often, and what it is worth now (decayed like the score). */
export interface ScoreReason {
  /** One reason per kind and subject, e.g. `key_page:/pricing`, `event:demo_requested`. */
  key: string;
  kind: 'open' | 'click' | 'page' | 'key_page' | 'read' | 'comparison' | 'return' | 'event';
  /** The page, link, event name or number the reason is about (see describe-score.ts). */
  subject: string | null;
  /** Points as of the score's scored_at. */
  points: number;
  count: number;
  /** Reads: seconds on the page, summed. */
  seconds?: number;
  /** ISO times of the first and latest occurrence. */
  first: string;
  last: string;
}

/** Reasons kept per lead: enough for the card and the alert, small enough to rewrite on every event. */
export const REASONS_KEPT = 12;

/** 2^(−elapsed / half-life): what one point is worth `elapsedMs` later. Never above 1 (a clock running behind). */
export function decayFactor(elapsedMs: number, halfLifeDays: number): number {
  return Math.pow(2, -Math.max(0, elapsedMs) / (halfLifeDays * 86_400_000));
}

/** A contribution of new activity, its points already decayed to the scoring time. */
export type ReasonContribution = Omit<ScoreReason, 'count'> & { count?: number };

/**
 * The stored reasons decayed by `factor`, plus the new contributions; the strongest REASONS_KEPT kept.
 * Pure: the scorer's read-modify-write and the tests' from-scratch expectation both use it.
 */
export function mergeReasons(stored: readonly ScoreReason[], factor: number, added: readonly ReasonContribution[]): ScoreReason[] {
  const byKey = new Map<string, ScoreReason>(stored.map((reason) => [reason.key, { ...reason, points: reason.points * factor }]));
  for (const contribution of added) {
    const existing = byKey.get(contribution.key);
    if (!existing) {
      byKey.set(contribution.key, { ...contribution, count: contribution.count ?? 1 });
      continue;
    }
    existing.points += contribution.points;
    existing.count += contribution.count ?? 1;
    if (contribution.seconds !== undefined) existing.seconds = (existing.seconds ?? 0) + contribution.seconds;
    if (contribution.first < existing.first) existing.first = contribution.first;
    if (contribution.last > existing.last) existing.last = contribution.last;
  }
  return [...byKey.values()].sort((a, b) => b.points - a.points || a.key.localeCompare(b.key)).slice(0, REASONS_KEPT);
}
