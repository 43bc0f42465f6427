import type { Services } from '../../services.ts';
import type { CardScore } from '../leads/build-lead-card.ts';
import { currentScore } from './describe-score.ts';
import { loadScoringModel } from './load-scoring-model.ts';
import { findLeadScore } from './queries.ts';

/** The lead's score for its card: the stored one decayed to now, with the workspace's alert threshold. */
export async function leadCardScore(services: Services, teamId: string, leadId: number): Promise<CardScore> {
  const [model, stored] = await Promise.all([loadScoringModel(services.sql, teamId), findLeadScore(services.sql, teamId, leadId)]);
  return {
    value: stored ? currentScore(stored, model.halfLifeDays, services.clock.now()) : 0,
    threshold: model.alertThreshold,
    reasons: stored?.reasons ?? [],
  };
}
