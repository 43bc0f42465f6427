import type { ScoreReason } from '../../src/modules/scoring/score-reason.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';

/** Waits until every queued scoring job (one per API batch) has run. */
export async function scoringSettled(app: TestApp): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await app.db.sql<{ pending: number }[]>`
        SELECT count(*) FILTER (WHERE state <> 'completed')::int AS pending FROM pgboss.job WHERE name = 'scoring.score-events'`;
      return row?.pending === 0;
    },
    { description: 'the scoring jobs to complete' },
  );
}

export interface StoredScore {
  score: number;
  scored_at: Date;
  reasons: ScoreReason[];
}

export async function storedScore(app: TestApp, leadId: number): Promise<StoredScore | undefined> {
  const [row] = await app.db.sql<StoredScore[]>`SELECT score, scored_at, reasons FROM lead_scores WHERE lead_id = ${leadId}`;
  return row;
}

export async function leadIdOf(app: TestApp, email: string): Promise<number> {
  const [row] = await app.db.sql<{ id: number }[]>`SELECT id FROM leads WHERE team_id = ${app.slack.teamId} AND email = ${email}`;
  if (!row) throw new Error(`no lead ${email}`);
  return row.id;
}

const WEEK_MS = 7 * 86_400_000;

/** The from-scratch expectation with the default 7-day half-life: Σ points × 2^(−age / half-life). */
export function expectedScore(now: Date, scored: ReadonlyArray<{ points: number; at: Date }>, halfLifeMs = WEEK_MS): number {
  return scored.reduce((sum, { points, at }) => sum + points * Math.pow(2, -Math.max(0, now.getTime() - at.getTime()) / halfLifeMs), 0);
}

/** The stored score decayed to `now`, as the card shows it. */
export function decayedTo(stored: StoredScore, now: Date, halfLifeMs = WEEK_MS): number {
  return stored.score * Math.pow(2, -(now.getTime() - stored.scored_at.getTime()) / halfLifeMs);
}
