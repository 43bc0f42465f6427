import type { LeadOneToOne } from './queries.ts';

/** What became of a 1:1 email, when there is more to say than that it went. */
const STATE_WORDS: Partial<Record<NonNullable<LeadOneToOne['state']>, string>> = {
  queued: 'sending',
  sending: 'sending',
  delivered: 'delivered',
  bounced: 'bounced',
  complained: 'marked as spam',
  failed: 'not sent',
  suppressed: 'not sent',
  cancelled: 'not sent',
};

/** For the lead card: its fate in the ledger and what the lead did with it, e.g. ["delivered", "opened"]. */
export function oneToOneFateWords(email: LeadOneToOne): string[] {
  const words = [email.state ? STATE_WORDS[email.state] : undefined, email.openedAt ? 'opened' : undefined, email.clickedAt ? 'clicked' : undefined];
  return words.filter((word): word is string => word !== undefined);
}
