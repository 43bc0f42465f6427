import type { Queryable } from '../../db/client.ts';
import { findScoringModelDocument } from './queries.ts';
import { DEFAULT_SCORING_MODEL, ScoringModelSchema, type ScoringModel } from './scoring-model.ts';

/**
 * The workspace's model, or the defaults. A stored document that no longer parses (a bound tightened
 * since) falls back to the defaults rather than stopping scoring; the admin sees them in /nurture scoring.
 */
export async function loadScoringModel(sql: Queryable, teamId: string): Promise<ScoringModel> {
  const document = await findScoringModelDocument(sql, teamId);
  if (document === undefined) return DEFAULT_SCORING_MODEL;
  const parsed = ScoringModelSchema.safeParse(document);
  return parsed.success ? parsed.data : DEFAULT_SCORING_MODEL;
}
