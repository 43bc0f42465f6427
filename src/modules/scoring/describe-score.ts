import { decayFactor, type ScoreReason } from './score-reason.ts';

/** Reasons put in words on the lead card and in alerts. */
export const REASONS_DESCRIBED = 4;

const HOUR = 3_600_000;

const times = (count: number) => (count === 1 ? 'once' : count === 2 ? 'twice' : `${count} times`);

/** "in 2 days", "in 3 hours": how long the reason's occurrences took, when there were several. */
function within(reason: ScoreReason): string {
  const span = Date.parse(reason.last) - Date.parse(reason.first);
  if (reason.count < 2) return '';
  if (span < HOUR) return ' within an hour';
  if (span < 48 * HOUR) return ` in ${Math.ceil(span / HOUR)} hours`;
  return ` in ${Math.ceil(span / (24 * HOUR))} days`;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} seconds`;
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? 'a minute' : `${minutes} minutes`;
}

/** One reason in plain words, e.g. "visited /pricing 3 times in 2 days". Plain text: callers escape for mrkdwn. */
export function describeReason(reason: ScoreReason): string {
  switch (reason.kind) {
    case 'key_page':
      return reason.count === 1 ? `visited ${reason.subject}` : `visited ${reason.subject} ${times(reason.count)}${within(reason)}`;
    case 'page':
      return reason.count === 1 ? 'viewed a page' : `viewed ${reason.count} pages${within(reason)}`;
    case 'read':
      return `read ${reason.subject} for ${duration(reason.seconds ?? 0)}`;
    case 'click':
      return `clicked ${reason.subject}${reason.count === 1 ? '' : ` ${times(reason.count)}${within(reason)}`}`;
    case 'open':
      return reason.count === 1 ? 'opened an email' : `opened emails ${times(reason.count)}${within(reason)}`;
    case 'comparison':
      return `compared ${reason.subject} or more product and pricing pages in one visit${reason.count === 1 ? '' : ` (${times(reason.count)})`}`;
    case 'return':
      return `came back to the site within ${reason.subject} days of clicking an email${reason.count === 1 ? '' : ` (${times(reason.count)})`}`;
    case 'event':
      return `${(reason.subject ?? 'a custom event').replaceAll('_', ' ')}${reason.count === 1 ? '' : ` ${times(reason.count)}${within(reason)}`}`;
  }
}

/** The strongest reasons in words: "visited /pricing 3 times in 2 days, read /case-studies/acme for 4 minutes, clicked "See pricing"". */
export function describeScore(reasons: readonly ScoreReason[], limit = REASONS_DESCRIBED): string {
  if (reasons.length === 0) return 'no scored activity yet';
  return [...reasons]
    .sort((a, b) => b.points - a.points)
    .slice(0, limit)
    .map(describeReason)
    .join(', ');
}

/** A stored score as it stands `now`: score × 2^(−Δt / half-life). */
export function currentScore(stored: { score: number; scored_at: Date }, halfLifeDays: number, now: Date): number {
  return stored.score * decayFactor(now.getTime() - stored.scored_at.getTime(), halfLifeDays);
}
