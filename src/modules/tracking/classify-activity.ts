import { BlockList, isIPv4 } from 'node:net';
import { isbot } from 'isbot';

/** events.verdict and verdict_reason: only human activity will score; digests can count what was filtered. */
export interface Verdict {
  verdict: 'human' | 'machine';
  reason: string | null;
}

export const HUMAN: Verdict = { verdict: 'human', reason: null };

export const MACHINE_REASONS = {
  head: 'HEAD request',
  hiddenLink: 'hidden link',
  bot: 'known bot',
  noUserAgent: 'no user agent',
  privacyProxy: 'privacy proxy (Apple Mail Privacy Protection)',
  fastClick: 'clicked within seconds of sending',
  allLinks: 'every link clicked at once',
} as const;

/** A click this soon after the email was handed to Resend is a security scanner's: nobody reads that fast. */
export const SCANNER_CLICK_SECONDS = 10;
/** All of an email's links (two or more) clicked within this window: a scanner following every address. */
export const LINK_BURST_MS = 2000;

/**
 * Apple Mail Privacy Protection fetches every image of every email on delivery, from Apple's proxy
 * (Apple owns 17.0.0.0/8) with a bare `Mozilla/5.0` user agent, whether or not the person reads it. We
 * call any open from 17.0.0.0/8 a privacy-proxy open: Apple's own staff reading mail from its network
 * are the rare false positive, and counting every MPP prefetch as a read would be far worse.
 */
const APPLE_PROXY = new BlockList();
APPLE_PROXY.addSubnet('17.0.0.0', 8, 'ipv4');

/**
 * Gmail's and Yahoo's image proxies fetch the pixel when the person opens the email (they do not
 * prefetch), so their opens are human although isbot lists them.
 */
const OPENING_PROXIES = /GoogleImageProxy|YahooMailProxy/i;

export interface Activity {
  kind: 'open' | 'click';
  method: string;
  userAgent: string | undefined;
  /** The client's address (the first X-Forwarded-For entry behind a proxy). */
  ip: string | undefined;
  hiddenLink: boolean;
  /** When the email was sent and when this happened. */
  sentAt: Date;
  at: Date;
}

/**
 * What one request looks like on its own. The all-links burst needs several requests: the writer
 * (tracking-writer.ts) judges it.
 */
export function classifyActivity(activity: Activity): Verdict {
  if (activity.method === 'HEAD') return machine(MACHINE_REASONS.head);
  if (activity.hiddenLink) return machine(MACHINE_REASONS.hiddenLink);
  if (activity.kind === 'open' && activity.ip && isAppleProxy(activity.ip)) return machine(MACHINE_REASONS.privacyProxy);
  const userAgent = activity.userAgent?.trim() ?? '';
  if (userAgent === '') return machine(MACHINE_REASONS.noUserAgent);
  if (isKnownBot(userAgent) && !(activity.kind === 'open' && OPENING_PROXIES.test(userAgent))) return machine(MACHINE_REASONS.bot);
  if (activity.kind === 'click' && activity.at.getTime() - activity.sentAt.getTime() < SCANNER_CLICK_SECONDS * 1000) return machine(MACHINE_REASONS.fastClick);
  return HUMAN;
}

/** A page view or read from the site snippet: only the user agent tells a crawler running the page's scripts. */
export function classifyVisit(userAgent: string | undefined): Verdict {
  const agent = userAgent?.trim() ?? '';
  if (agent === '') return machine(MACHINE_REASONS.noUserAgent);
  if (isKnownBot(agent)) return machine(MACHINE_REASONS.bot);
  return HUMAN;
}

/**
 * isbot's verdict, remembered per user agent: its pattern costs ~1 µs a request, and the agents hitting
 * the endpoints are a few thousand strings (browsers, mail clients, scanners) repeated. Bounded (cleared
 * when full); overlong agents are not kept.
 */
const botVerdicts = new Map<string, boolean>();
const BOT_VERDICTS_KEPT = 5000;
const CACHED_AGENT_LENGTH = 512;

function isKnownBot(userAgent: string): boolean {
  let verdict = botVerdicts.get(userAgent);
  if (verdict === undefined) {
    verdict = isbot(userAgent);
    if (userAgent.length <= CACHED_AGENT_LENGTH) {
      if (botVerdicts.size >= BOT_VERDICTS_KEPT) botVerdicts.clear();
      botVerdicts.set(userAgent, verdict);
    }
  }
  return verdict;
}

function machine(reason: string): Verdict {
  return { verdict: 'machine', reason };
}

function isAppleProxy(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip;
  return isIPv4(v4) && APPLE_PROXY.check(v4, 'ipv4');
}
