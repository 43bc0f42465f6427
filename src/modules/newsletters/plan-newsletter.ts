import type { Services } from '../../services.ts';
import { sampleAudience, type SegmentRow } from '../segments/queries.ts';
import { ruleContext } from '../segments/segments.ts';
import type { WorkspaceSettings } from '../workspaces/settings.ts';
import type { SendPlan } from './newsletter.ts';
import { countAudienceGroups, lastSentToSegment, type AudienceGroup } from './queries.ts';

/** A plan counts the whole segment once; a pathological rule must not hold a connection for long. */
export const PLAN_TIMEOUT_MS = 30_000;
export const SAMPLE_COUNT = 3;
export const TOP_INDUSTRIES = 5;

const STAGE_ORDER = ['awareness', 'consideration', 'decision', 'customer'];

/**
 * The send plan for a segment as it is now: who is subscribed, who is left out (suppressed), who is held
 * for a rep's claim of a hot-lead alert, who the frequency cap holds back right now, how the rest splits by stage and industry, three members to show
 * renders for, and the last newsletter to the same segment. One read-only snapshot.
 */
export async function planNewsletter(services: Services, input: { teamId: string; segment: SegmentRow; settings: WorkspaceSettings; now: Date }): Promise<SendPlan> {
  const { teamId, segment, settings, now } = input;
  return services.sql.begin('isolation level repeatable read read only', async (tx) => {
    await tx`SELECT set_config('statement_timeout', ${String(PLAN_TIMEOUT_MS)}, true)`;
    const context = ruleContext(teamId, now);
    const groups = await countAudienceGroups(tx, segment.rule, context, { perDay: settings.capPerDay, perWeek: settings.capPerWeek });
    const samples = await sampleAudience(tx, segment.rule, context, { purpose: 'sending' }, SAMPLE_COUNT);
    const previous = await lastSentToSegment(tx, teamId, segment.id);
    return summarizeAudience(groups, {
      segmentName: segment.name,
      previous: previous ? { startedAt: previous.started_at.toISOString(), recipients: previous.recipient_count } : null,
      sampleLeadIds: samples.map((lead) => lead.id),
    });
  }) as Promise<SendPlan>;
}

export function summarizeAudience(groups: readonly AudienceGroup[], rest: Pick<SendPlan, 'segmentName' | 'previous' | 'sampleLeadIds'>): SendPlan {
  const sum = (rows: readonly AudienceGroup[]) => rows.reduce((total, row) => total + row.count, 0);
  const subscribed = groups.filter((row) => row.subscribed);
  // A held lead is left out whatever the cap says: it counts as held, not capped.
  const free = subscribed.filter((row) => !row.held);
  const planned = free.filter((row) => !row.capped);

  const stages = new Map<string, number>();
  const industries = new Map<string | null, { industry: string | null; count: number }>();
  for (const row of planned) {
    stages.set(row.stage, (stages.get(row.stage) ?? 0) + row.count);
    const industry = industries.get(row.industry_key) ?? { industry: row.industry, count: 0 };
    industry.count += row.count;
    industries.set(row.industry_key, industry);
  }
  const rankedIndustries = [...industries.values()].sort((a, b) => b.count - a.count || String(a.industry).localeCompare(String(b.industry)));
  return {
    ...rest,
    subscribed: sum(subscribed),
    suppressed: sum(groups.filter((row) => !row.subscribed)),
    held: sum(subscribed.filter((row) => row.held)),
    capped: sum(free.filter((row) => row.capped)),
    planned: sum(planned),
    byStage: [...stages].map(([stage, count]) => ({ stage, count })).sort((a, b) => STAGE_ORDER.indexOf(a.stage) - STAGE_ORDER.indexOf(b.stage)),
    byIndustry: rankedIndustries.slice(0, TOP_INDUSTRIES),
    otherIndustries: sum(rankedIndustries.slice(TOP_INDUSTRIES) as AudienceGroup[]),
  };
}

/** The stage most of the planned audience is in, with its share; undefined for an empty audience. */
export function mainStage(plan: Pick<SendPlan, 'byStage' | 'planned'>): { stage: string; share: number } | undefined {
  const [biggest] = [...plan.byStage].sort((a, b) => b.count - a.count);
  return biggest && plan.planned > 0 ? { stage: biggest.stage, share: biggest.count / plan.planned } : undefined;
}
