import type { Queryable } from '../../db/client.ts';
import { leadsThatVisited } from './run-queries.ts';
import type { StepCondition } from './sequence.ts';

/** One run about to be sent a step with a condition, and what the tick already knows about it. */
export interface ConditionCheck {
  runId: number;
  teamId: string;
  leadId: number;
  condition: StepCondition;
  leadStage: string | null;
  /** The ledger row of the last step the run was sent (none: nothing to have opened or clicked). */
  previousOpened: boolean;
  previousClicked: boolean;
}

/**
 * Which of the runs' step conditions do not hold at `now`, with why (the step is skipped and the run
 * moves on). Set-based: the previous email's opens and clicks and the lead's stage came with the claim;
 * page visits are one query per distinct page condition in the batch, not one per lead.
 */
export async function unmetConditions(sql: Queryable, checks: readonly ConditionCheck[], now: Date): Promise<Map<number, string>> {
  const unmet = new Map<number, string>();
  const visitChecks = new Map<string, ConditionCheck[]>();
  for (const check of checks) {
    const { condition } = check;
    switch (condition.kind) {
      case 'previous_not_clicked':
        if (check.previousClicked) unmet.set(check.runId, 'skipped: the previous email was clicked');
        break;
      case 'previous_not_opened':
        if (check.previousOpened) unmet.set(check.runId, 'skipped: the previous email was opened');
        break;
      case 'stage':
        if (!check.leadStage || !(condition.stages as readonly string[]).includes(check.leadStage)) {
          unmet.set(check.runId, `skipped: the lead's stage is ${check.leadStage ?? 'unknown'}, not ${condition.stages.join(' or ')}`);
        }
        break;
      case 'not_visited': {
        const key = JSON.stringify([check.teamId, condition.url, condition.days]);
        const group = visitChecks.get(key);
        if (group) group.push(check);
        else visitChecks.set(key, [check]);
        break;
      }
    }
  }
  for (const group of visitChecks.values()) {
    const first = group[0]!;
    const condition = first.condition as Extract<StepCondition, { kind: 'not_visited' }>;
    const visited = await leadsThatVisited(sql, first.teamId, group.map((check) => check.leadId), condition, now);
    for (const check of group) {
      if (visited.has(check.leadId)) unmet.set(check.runId, `skipped: visited ${condition.url} in the last ${condition.days} days`);
    }
  }
  return unmet;
}
