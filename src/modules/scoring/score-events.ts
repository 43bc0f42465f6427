import type { Queryable } from '../../db/client.ts';
import type { Services } from '../../services.ts';
import { contextEvents, lockLeadScores, writeLeadScores, type ContextEvent } from './queries.ts';
import { decayFactor, mergeReasons, type ReasonContribution, type ScoreReason } from './score-reason.ts';
import { loadScoringModel } from './load-scoring-model.ts';
import { matchesPagePattern, VISIT_GAP_MINUTES, type ScoringModel } from './scoring-model.ts';

/** One stored event, as the scorer reads it. Call scoreEvents after the events are stored. */
export interface ScorableEvent {
  leadId: number;
  kind: 'email' | 'web' | 'custom';
  name: string;
  /** Web events: the page's path ("/pricing"). */
  urlPath: string | null;
  /** Reads: `seconds`; clicks: `url` (and `link_text` when known). Other properties are ignored. */
  properties: Record<string, unknown>;
  occurredAt: Date | string;
  /** Tracking's judgement; 'machine' never scores, null (API events) counts as a person. */
  verdict?: 'human' | 'machine' | null;
}

/** A lead's score before and after a batch (both as of now): alerts look for `before < threshold <= after`. */
export interface ScoreChange {
  leadId: number;
  before: number;
  after: number;
  reasons: ScoreReason[];
}

export interface ScoreOptions {
  /** Runs in the scoring transaction, the changed leads' score rows still locked (alerts are raised here). */
  inTransaction?: (tx: Queryable, changes: readonly ScoreChange[], model: ScoringModel) => Promise<void>;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * Adds a batch of events to their leads' scores: each event's points decayed from when it happened to
 * now (services.clock), added to the stored score decayed from when it was last scored. Set-based: one
 * context read for the whole batch (earlier visits and email clicks of its leads), then one transaction
 * that locks, reads and rewrites the touched leads' rows. Returns the leads whose score changed.
 */
export async function scoreEvents(services: Services, teamId: string, events: readonly ScorableEvent[], options: ScoreOptions = {}): Promise<ScoreChange[]> {
  const human = events
    .map((event) => ({ ...event, at: new Date(event.occurredAt) }))
    .filter((event) => event.verdict !== 'machine' && !Number.isNaN(event.at.getTime()));
  if (human.length === 0) return [];
  const model = await loadScoringModel(services.sql, teamId);
  const context = await readContext(services, teamId, human, model);
  const contributions = new Map<number, ReasonContribution[]>();
  for (const event of human) {
    const scored = contributionsOf(event, model, context.get(event.leadId));
    if (scored.length === 0) continue;
    const lead = contributions.get(event.leadId);
    if (lead) lead.push(...scored);
    else contributions.set(event.leadId, scored);
  }
  if (contributions.size === 0) return [];

  const now = services.clock.now();
  const leadIds = [...contributions.keys()].sort((a, b) => a - b);
  return services.sql.begin(async (tx) => {
    const rows = await lockLeadScores(tx, teamId, leadIds, now);
    const changes: ScoreChange[] = [];
    const written = rows.map((row) => {
      const factor = decayFactor(now.getTime() - row.scored_at.getTime(), model.halfLifeDays);
      const added = contributions.get(row.lead_id)!.map((contribution) => ({
        ...contribution,
        points: contribution.points * decayFactor(now.getTime() - Date.parse(contribution.last), model.halfLifeDays),
      }));
      const before = row.score * factor;
      const after = before + added.reduce((sum, contribution) => sum + contribution.points, 0);
      const reasons = mergeReasons(row.reasons, factor, added);
      changes.push({ leadId: row.lead_id, before, after, reasons });
      return { lead_id: row.lead_id, score: after, scored_at: now.toISOString(), reasons };
    });
    await writeLeadScores(tx, teamId, written);
    await options.inTransaction?.(tx, changes, model);
    return changes;
  });
}

interface TimedEvent extends ScorableEvent {
  at: Date;
}

/** Each lead's web events and email clicks around the batch, oldest first (the batch's own included). */
type LeadContext = { web: ContextEvent[]; clicks: Date[] };

async function readContext(services: Services, teamId: string, events: readonly TimedEvent[], model: ScoringModel): Promise<Map<number, LeadContext>> {
  const views = events.filter((event) => event.name === 'page_view');
  const context = new Map<number, LeadContext>();
  if (views.length === 0) return context;
  const times = views.map((event) => event.at.getTime());
  const earliest = Math.min(...times);
  const rows = await contextEvents(services.sql, teamId, [...new Set(views.map((event) => event.leadId))], {
    webSince: new Date(earliest - Math.max(model.comparisonMinutes, VISIT_GAP_MINUTES) * MINUTE),
    clickSince: new Date(earliest - model.returnVisitDays * DAY),
    until: new Date(Math.max(...times)),
  });
  // The batch too, in case the caller scores before storing; an event read back from the table counts once.
  const batch: ContextEvent[] = events
    .filter((event) => event.kind === 'web' || event.name === 'email_clicked')
    .map((event) => ({ lead_id: event.leadId, name: event.name, url_path: event.urlPath, occurred_at: event.at }));
  const seen = new Set<string>();
  for (const row of [...rows, ...batch]) {
    const key = `${row.lead_id} ${row.name} ${row.url_path} ${row.occurred_at.getTime()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let lead = context.get(row.lead_id);
    if (!lead) context.set(row.lead_id, (lead = { web: [], clicks: [] }));
    if (row.name === 'email_clicked') lead.clicks.push(row.occurred_at);
    else lead.web.push(row);
  }
  return context;
}

/** What one event adds to its lead's score, undecayed, by reason. */
function contributionsOf(event: TimedEvent, model: ScoringModel, context: LeadContext | undefined): ReasonContribution[] {
  const at = event.at.toISOString();
  const reason = (kind: ReasonContribution['kind'], subject: string | null, points: number, extra: Partial<ReasonContribution> = {}): ReasonContribution[] =>
    points > 0 ? [{ key: subject === null ? kind : `${kind}:${subject}`, kind, subject, points, first: at, last: at, ...extra }] : [];

  switch (event.name) {
    case 'email_opened':
      return reason('open', null, model.openPoints);
    case 'email_clicked':
      return reason('click', clickSubject(event.properties), model.clickPoints);
    case 'page_read': {
      const seconds = Number(event.properties.seconds);
      if (!Number.isFinite(seconds) || seconds < model.longReadSeconds) return [];
      return reason('read', event.urlPath ?? '/', model.longReadPoints, { seconds: Math.round(seconds) });
    }
    case 'page_view':
      return pageViewContributions(event, model, context ?? { web: [], clicks: [] }, reason);
  }
  if (event.kind === 'custom') return reason('event', event.name, model.customEvents[event.name] ?? 0);
  return [];
}

function pageViewContributions(
  event: TimedEvent,
  model: ScoringModel,
  context: LeadContext,
  reason: (kind: ReasonContribution['kind'], subject: string | null, points: number) => ReasonContribution[],
): ReasonContribution[] {
  const path = event.urlPath ?? '/';
  const t = event.at.getTime();
  const keyPage = model.keyPages.filter((page) => matchesPagePattern(page.pattern, path)).sort((a, b) => b.points - a.points)[0];
  const contributions = keyPage ? reason('key_page', path, keyPage.points) : reason('page', null, model.pageViewPoints);

  // A return visit: the first page of a visit, begun a while after an email click and within N days of it.
  const earlierWeb = (minutes: number) => context.web.filter((row) => row.occurred_at.getTime() < t && row.occurred_at.getTime() >= t - minutes * MINUTE);
  const startsVisit = earlierWeb(VISIT_GAP_MINUTES).length === 0;
  const clickedBefore = context.clicks.some((click) => click.getTime() <= t - VISIT_GAP_MINUTES * MINUTE && click.getTime() >= t - model.returnVisitDays * DAY);
  if (startsVisit && clickedBefore) contributions.push(...reason('return', String(model.returnVisitDays), model.returnVisitPoints));

  // Comparison: this page makes the N-th different product or pricing page within the window.
  const isCompared = (p: string | null) => p !== null && model.comparisonPatterns.some((pattern) => matchesPagePattern(pattern, p));
  if (isCompared(path)) {
    const compared = new Set(earlierWeb(model.comparisonMinutes).filter((row) => row.name === 'page_view' && isCompared(row.url_path)).map((row) => row.url_path));
    if (!compared.has(path) && compared.size + 1 === model.comparisonPages) contributions.push(...reason('comparison', String(model.comparisonPages), model.comparisonPoints));
  }
  return contributions;
}

/** A click's reason is its link: the text when tracking knows it, else the address without its query. */
function clickSubject(properties: Record<string, unknown>): string {
  if (typeof properties.link_text === 'string' && properties.link_text.trim() !== '') return `"${properties.link_text.trim().slice(0, 80)}"`;
  if (typeof properties.url === 'string' && URL.canParse(properties.url)) {
    const url = new URL(properties.url);
    return `${url.host}${url.pathname.replace(/\/+$/, '')}`;
  }
  return 'a link';
}
