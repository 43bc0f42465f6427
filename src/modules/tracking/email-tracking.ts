import type { Config } from '../../config.ts';
import type { CompiledTemplate, EmailTracking } from '../templates/template.ts';
import { clickPathToken, MAX_TRACKED_URL_LENGTH, signEmailToken, signLinkToken } from './tracking-tokens.ts';

/** Which email is being tracked: its ledger row, lead, and when it was claimed for sending. */
export interface TrackedEmail {
  teamId: string;
  sendId: number;
  leadId: number;
  /** The ledger row's sent_at: a resumed batch renders the very same email (same Idempotency-Key body). */
  sentAt: Date;
}

/** Link tokens of a compiled template, signed once: kept with the template itself (gone when it is). */
interface LinkTokens {
  secret: string;
  hidden: string;
  byUrl: Map<string, string>;
}
const linkTokens = new WeakMap<CompiledTemplate, LinkTokens>();

/**
 * Tracking for one email: one new signature (its email token); static links reuse their template's
 * tokens, and only a link whose address holds merge fields is signed for this email.
 */
export function emailTracking(config: Pick<Config, 'trackingSecret' | 'publicUrl'>, template: CompiledTemplate, email: TrackedEmail): EmailTracking {
  const secret = config.trackingSecret;
  const version = template.version;
  const emailToken = signEmailToken(secret, {
    w: email.teamId,
    s: email.sendId,
    l: email.leadId,
    v: version,
    t: Math.floor(email.sentAt.getTime() / 1000),
    n: template.linkCount,
  });
  let tokens = linkTokens.get(template);
  if (!tokens || tokens.secret !== secret) {
    tokens = { secret, hidden: signLinkToken(secret, { v: version, h: 1 }), byUrl: new Map() };
    linkTokens.set(template, tokens);
  }
  const cached = tokens;
  const clickBase = `${config.publicUrl}/t/c/`;
  return {
    clickUrl(url) {
      if (url.length > MAX_TRACKED_URL_LENGTH) return url;
      let linkToken = cached.byUrl.get(url);
      if (!linkToken) {
        linkToken = signLinkToken(secret, { v: version, u: url });
        // Only the template's own addresses: merge-field addresses differ per lead and would grow without end.
        if (template.staticUrls.has(url)) cached.byUrl.set(url, linkToken);
      }
      return clickBase + clickPathToken(linkToken, emailToken);
    },
    pixelUrl: `${config.publicUrl}/t/o/${emailToken}.gif`,
    hiddenLinkUrl: clickBase + clickPathToken(cached.hidden, emailToken),
  };
}
