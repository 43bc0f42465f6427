import { z } from 'zod';
import {
  defineCompactTokenKind,
  defineTokenKind,
  isCompactToken,
  signCompactToken,
  signToken,
  verifyCompactToken,
  verifyToken,
  type CompactTokenKind,
  type TokenBytesReader,
  type TokenBytesWriter,
  type TokenKind,
} from '../../lib/signed-token.ts';

/**
 * The tokens of open and click tracking (src/lib/signed-token.ts: one HMAC key per purpose, ids only).
 *
 * Sending must stay fast (~10,000 emails/s, ~3 µs per HMAC), so an email costs one new signature: its
 * email token, shared by its pixel and all its links. A link's own token (the address, the template
 * version) is the same for every email of that version and is signed once (email-tracking.ts caches it);
 * a click carries both, `<link token>.<email token>`, and counts only when their versions agree, so a
 * link token cannot be paired with an email of another template. Nothing expires: old emails keep working,
 * in either form (JSON tokens, sent before the compact form, still verify).
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

/**
 * A first-party visitor id (`nv=`) as clicks handed it to destinations before they handed out their email
 * token (readVisitorToken): the site snippet ties visits to the lead with it.
 */
export const VisitorTokenSchema = z.object({ w: z.string().min(1).max(32), l: z.number().int().positive() }).strict();
export type VisitorToken = z.infer<typeof VisitorTokenSchema>;

/** The site key in the install snippet (`data-site`): it names the workspace whose site reports visits. */
export const SiteKeySchema = z.object({ w: z.string().min(1).max(32) }).strict();
export type SiteKey = z.infer<typeof SiteKeySchema>;

/** The tokens' JSON form (signed-token.ts), which tracking links sent before the compact form carry: still verified. */
export const EMAIL_TOKEN = defineTokenKind('tracking.email', EmailTokenSchema);
export const LINK_TOKEN = defineTokenKind('tracking.link', LinkTokenSchema);
export const VISITOR_TOKEN = defineTokenKind('tracking.visitor', VisitorTokenSchema);
export const SITE_KEY = defineTokenKind('tracking.site', SiteKeySchema);

/**
 * The compact form (signed-token.ts) every email now carries: about half the length of the JSON form (a
 * click URL of ~180 characters instead of ~300, in both parts of every email), and read without JSON or
 * zod on each click. Format 1: the fields in the schemas' order, whole numbers as varints.
 */
const FORMAT_1 = 1;
/** Team ids and template versions: the schemas' 32 characters (ASCII, so bytes). */
const MAX_ID_BYTES = 32;
const LINK_ADDRESS = 0;
const LINK_HIDDEN = 1;

/**
 * A template version (CompiledTemplate.version: 16 base64url characters of a hash) as its 12 bytes after
 * a 0, anything else as text (its length first, never 0): 4 bytes less in every token, twice in a click.
 */
function writeVersion(out: TokenBytesWriter, version: string): TokenBytesWriter {
  return HASH_VERSION.test(version) ? out.byte(0).bytes(Buffer.from(version, 'base64url')) : out.text(version, MAX_ID_BYTES);
}

function readVersion(input: TokenBytesReader): string | undefined {
  if (input.peekByte() === 0) {
    input.byte();
    return input.bytes(HASH_VERSION_BYTES)?.toString('base64url');
  }
  const text = input.text(MAX_ID_BYTES);
  // Written as a hash when it is one: one spelling per version.
  return text === undefined || HASH_VERSION.test(text) ? undefined : text;
}
/** 16 characters of base64url hold exactly 12 bytes (no spare bits): decoding and encoding again give the same text. */
const HASH_VERSION = /^[A-Za-z0-9_-]{16}$/;
const HASH_VERSION_BYTES = 12;

export const COMPACT_EMAIL_TOKEN = defineCompactTokenKind<EmailToken>('tracking.email', {
  encode(email, out) {
    if (!(email.s > 0 && email.l > 0)) throw new Error('an email token needs positive send and lead ids');
    writeVersion(out.byte(FORMAT_1).text(email.w, MAX_ID_BYTES).uint(email.s).uint(email.l), email.v).uint(email.t).uint(email.n);
  },
  decode(input) {
    if (input.byte() !== FORMAT_1) return undefined;
    const w = input.text(MAX_ID_BYTES);
    const s = input.uint();
    const l = input.uint();
    const v = readVersion(input);
    const t = input.uint();
    const n = input.uint();
    if (w === undefined || !s || !l || v === undefined || t === undefined || n === undefined) return undefined;
    return { w, s, l, v, t, n };
  },
});

export const COMPACT_LINK_TOKEN = defineCompactTokenKind<LinkToken>('tracking.link', {
  encode(link, out) {
    writeVersion(out.byte(FORMAT_1), link.v);
    if ('h' in link) out.byte(LINK_HIDDEN);
    else out.byte(LINK_ADDRESS).rest(WebAddressSchema.parse(link.u));
  },
  decode(input) {
    if (input.byte() !== FORMAT_1) return undefined;
    const v = readVersion(input);
    const kind = input.byte();
    if (v === undefined) return undefined;
    if (kind === LINK_HIDDEN) return { v, h: 1 };
    if (kind !== LINK_ADDRESS) return undefined;
    const u = input.rest();
    // Checked like a signed one, although we signed it: an address that is not http(s) is never redirected to.
    return WebAddressSchema.safeParse(u).success ? { v, u } : undefined;
  },
});

export const COMPACT_VISITOR_TOKEN = defineCompactTokenKind<VisitorToken>('tracking.visitor', {
  encode(visitor, out) {
    if (!(visitor.l > 0)) throw new Error('a visitor token needs a positive lead id');
    out.byte(FORMAT_1).text(visitor.w, MAX_ID_BYTES).uint(visitor.l);
  },
  decode(input) {
    if (input.byte() !== FORMAT_1) return undefined;
    const w = input.text(MAX_ID_BYTES);
    const l = input.uint();
    return w === undefined || !l ? undefined : { w, l };
  },
});

/** The URL parameter carrying the visitor token to the destination. */
export const VISITOR_PARAMETER = 'nv';

export const signEmailToken = (secret: string, payload: EmailToken) => signCompactToken(secret, COMPACT_EMAIL_TOKEN, payload);
export const signLinkToken = (secret: string, payload: LinkToken) => signCompactToken(secret, COMPACT_LINK_TOKEN, payload);
export const signVisitorToken = (secret: string, payload: VisitorToken) => signCompactToken(secret, COMPACT_VISITOR_TOKEN, payload);
export const signSiteKey = (secret: string, payload: SiteKey) => signToken(secret, SITE_KEY, payload);

/** A tracking token of either form: compact (what we sign now) or JSON (what older emails carry). */
function readEither<T extends object>(secret: string, compact: CompactTokenKind<T>, json: TokenKind<T>, token: string): T | undefined {
  const result = isCompactToken(token) ? verifyCompactToken(secret, compact, token) : verifyToken(secret, json, token);
  return result.ok ? result.payload : undefined;
}

export function readEmailToken(secret: string, token: string): EmailToken | undefined {
  return readEither(secret, COMPACT_EMAIL_TOKEN, EMAIL_TOKEN, token);
}

/**
 * A visitor id the site snippet sends back: the email token of the click that brought the visitor (what
 * clicks hand out: already verified, so a click signs nothing), or a visitor token (what clicks handed out
 * before, still in browsers). Either names the workspace and the lead.
 */
export function readVisitorToken(secret: string, token: string): VisitorToken | undefined {
  const visitor = readEither(secret, COMPACT_VISITOR_TOKEN, VISITOR_TOKEN, token);
  if (visitor) return visitor;
  const email = readEmailToken(secret, token);
  return email ? { w: email.w, l: email.l } : undefined;
}

export function readSiteKey(secret: string, token: string): SiteKey | undefined {
  const result = verifyToken(secret, SITE_KEY, token);
  return result.ok ? result.payload : undefined;
}

/** The path segment of a click: `<link token>.<email token>` (each token is `body.signature`). */
export function clickPathToken(linkToken: string, emailToken: string): string {
  return `${linkToken}.${emailToken}`;
}

/** `emailToken`: the email token's text, as the click carried it (the visitor id the click hands out). */
export type ClickTarget = { email: EmailToken; link: LinkToken; emailToken: string };

/**
 * Link tokens already verified, by secret and exact text: every email of a template version carries the
 * same ones, so most clicks verify only their email token. The same LinkToken object comes back for the
 * same text (tracking-routes.ts keeps its redirect with it). Bounded: cleared when full.
 */
const verifiedLinks = new Map<string, Map<string, LinkToken>>();
const VERIFIED_LINKS_KEPT = 10_000;

/** Both tokens verified and of one template version, or undefined (tampered, swapped, mixed, truncated). */
export function readClickToken(secret: string, token: string): ClickTarget | undefined {
  // `<link body>.<link signature>.<email body>.<email signature>`: the link token ends at the second dot;
  // each reader refuses a token with more or fewer parts.
  const second = token.indexOf('.', token.indexOf('.') + 1);
  if (second === -1) return undefined;
  const linkText = token.slice(0, second);
  let links = verifiedLinks.get(secret);
  if (!links) verifiedLinks.set(secret, (links = new Map()));
  let link = links.get(linkText);
  if (!link) {
    link = readEither(secret, COMPACT_LINK_TOKEN, LINK_TOKEN, linkText);
    if (!link) return undefined;
    if (links.size >= VERIFIED_LINKS_KEPT) links.clear();
    links.set(linkText, link);
  }
  const emailToken = token.slice(second + 1);
  const email = readEmailToken(secret, emailToken);
  if (!email || email.v !== link.v) return undefined;
  return { email, link, emailToken };
}
