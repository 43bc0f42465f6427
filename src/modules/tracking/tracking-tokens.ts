import { z } from 'zod';
import { defineTokenKind, signToken, verifyToken } from '../../lib/signed-token.ts';

/**
 * The tokens of open and click tracking (src/lib/signed-token.ts: one HMAC key per purpose, ids only).
 *
 * Sending must stay fast (~10,000 emails/s, ~3 µs per HMAC), so an email costs one new signature: its
 * email token, shared by its pixel and all its links. A link's own token (the address, the template
 * version) is the same for every email of that version and is signed once (email-tracking.ts caches it);
 * a click carries both, `<link token>.<email token>`, and counts only when their versions agree, so a
 * link token cannot be paired with an email of another template. Nothing expires: old emails keep working.
 */
export const EmailTokenSchema = z
  .object({
    /** Slack team id. */
    w: z.string().min(1).max(32),
    /** The ledger row (email_sends.id). */
    s: z.number().int().positive(),
    /** Lead id. */
    l: z.number().int().positive(),
    /** Template version (CompiledTemplate.version). */
    v: z.string().min(1).max(32),
    /** When it was sent, Unix seconds: a click seconds later is a link scanner's. */
    t: z.number().int().nonnegative(),
    /** Distinct tracked links in it: all of them clicked at once is a scanner too. */
    n: z.number().int().nonnegative(),
  })
  .strict();
export type EmailToken = z.infer<typeof EmailTokenSchema>;

/** Longer addresses stay untracked: their token would pass the 2,048-character limit of signed tokens. */
export const MAX_TRACKED_URL_LENGTH = 1200;

const WebAddressSchema = z
  .string()
  .max(MAX_TRACKED_URL_LENGTH)
  .refine((url) => /^https?:\/\/[^\s]+$/i.test(url) && URL.canParse(url), 'an http(s) address');

/** A link of a template version: where it goes, or `h` for the hidden link every HTML email carries. */
export const LinkTokenSchema = z.union([
  z.object({ v: z.string().min(1).max(32), u: WebAddressSchema }).strict(),
  z.object({ v: z.string().min(1).max(32), h: z.literal(1) }).strict(),
]);
export type LinkToken = z.infer<typeof LinkTokenSchema>;

/** The first-party visitor id a click hands the destination (`nv=`): the site snippet ties visits to the lead with it. */
export const VisitorTokenSchema = z.object({ w: z.string().min(1).max(32), l: z.number().int().positive() }).strict();
export type VisitorToken = z.infer<typeof VisitorTokenSchema>;

/** The site key in the install snippet (`data-site`): it names the workspace whose site reports visits. */
export const SiteKeySchema = z.object({ w: z.string().min(1).max(32) }).strict();
export type SiteKey = z.infer<typeof SiteKeySchema>;

export const EMAIL_TOKEN = defineTokenKind('tracking.email', EmailTokenSchema);
export const LINK_TOKEN = defineTokenKind('tracking.link', LinkTokenSchema);
export const VISITOR_TOKEN = defineTokenKind('tracking.visitor', VisitorTokenSchema);
export const SITE_KEY = defineTokenKind('tracking.site', SiteKeySchema);

/** The URL parameter carrying the visitor token to the destination. */
export const VISITOR_PARAMETER = 'nv';

export const signEmailToken = (secret: string, payload: EmailToken) => signToken(secret, EMAIL_TOKEN, payload);
export const signLinkToken = (secret: string, payload: LinkToken) => signToken(secret, LINK_TOKEN, payload);
export const signVisitorToken = (secret: string, payload: VisitorToken) => signToken(secret, VISITOR_TOKEN, payload);
export const signSiteKey = (secret: string, payload: SiteKey) => signToken(secret, SITE_KEY, payload);

export function readEmailToken(secret: string, token: string): EmailToken | undefined {
  const result = verifyToken(secret, EMAIL_TOKEN, token);
  return result.ok ? result.payload : undefined;
}

export function readVisitorToken(secret: string, token: string): VisitorToken | undefined {
  const result = verifyToken(secret, VISITOR_TOKEN, token);
  return result.ok ? result.payload : undefined;
}

export function readSiteKey(secret: string, token: string): SiteKey | undefined {
  const result = verifyToken(secret, SITE_KEY, token);
  return result.ok ? result.payload : undefined;
}

/** The path segment of a click: `<link token>.<email token>` (each token is `body.signature`). */
export function clickPathToken(linkToken: string, emailToken: string): string {
  return `${linkToken}.${emailToken}`;
}

export type ClickTarget = { email: EmailToken; link: LinkToken };

/**
 * Link tokens already verified, by their exact text: every email of a template version carries the same
 * ones, so most clicks verify only their email token. Bounded: cleared when full.
 */
const verifiedLinks = new Map<string, LinkToken>();
const VERIFIED_LINKS_KEPT = 10_000;

/** Both tokens verified and of one template version, or undefined (tampered, swapped, mixed, truncated). */
export function readClickToken(secret: string, token: string): ClickTarget | undefined {
  const parts = token.split('.');
  if (parts.length !== 4) return undefined;
  const linkText = `${parts[0]}.${parts[1]}`;
  const cacheKey = `${secret}\u0000${linkText}`;
  let link = verifiedLinks.get(cacheKey);
  if (!link) {
    const verified = verifyToken(secret, LINK_TOKEN, linkText);
    if (!verified.ok) return undefined;
    link = verified.payload;
    if (verifiedLinks.size >= VERIFIED_LINKS_KEPT) verifiedLinks.clear();
    verifiedLinks.set(cacheKey, link);
  }
  const email = readEmailToken(secret, `${parts[2]}.${parts[3]}`);
  if (!email || email.v !== link.v) return undefined;
  return { email, link };
}
