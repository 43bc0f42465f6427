import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { z } from 'zod';

/**
 * Compact, URL-safe signed tokens for links in emails (unsubscribe, click and open tracking):
 * `base64url(JSON payload).base64url(HMAC-SHA256)`. The HMAC key is derived from TRACKING_SECRET and
 * the token's purpose, so a token made for one purpose never verifies as another. Payloads carry ids,
 * never addresses: the payload is readable by whoever holds the link, only its integrity is protected.
 *
 *   const UnsubscribeToken = defineTokenKind('unsubscribe', z.object({ w: z.string(), l: z.number() }));
 *   const token = signToken(secret, UnsubscribeToken, { w: 'T1', l: 42 });
 *   const result = verifyToken(secret, UnsubscribeToken, token); // { ok: true, payload } | { ok: false, reason }
 */

export interface TokenKind<T extends object> {
  readonly purpose: string;
  readonly schema: z.ZodType<T>;
}

export type TokenFailure =
  /** Not shaped like a token at all: truncated link, garbage, wrong encoding. */
  | 'malformed'
  /** The signature does not match: tampered, signed for another purpose, or with another secret. */
  | 'bad-signature'
  | 'expired'
  /** Signed by us but the payload no longer fits the schema (a token from an older format). */
  | 'invalid-payload';

export type VerifiedToken<T> = { ok: true; payload: T; expiresAt?: Date } | { ok: false; reason: TokenFailure };

/** The envelope key holding the expiry (Unix seconds); payloads may not use it. */
const EXPIRY_KEY = 'exp';
/** Far above any token we make; refuses huge inputs before decoding or hashing them. */
const MAX_TOKEN_LENGTH = 2048;
const TOKEN_PATTERN = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;

export function defineTokenKind<T extends object>(purpose: string, schema: z.ZodType<T>): TokenKind<T> {
  if (!/^[a-z][a-z0-9.-]*$/.test(purpose)) throw new Error(`token purpose "${purpose}" must be lower-case letters, digits, dots or dashes`);
  return Object.freeze({ purpose, schema });
}

export function signToken<T extends object>(secret: string, kind: TokenKind<T>, payload: T, options: { expiresAt?: Date } = {}): string {
  if (EXPIRY_KEY in payload) throw new Error(`token payloads may not have a field named "${EXPIRY_KEY}": it holds the expiry`);
  // Validate on the way out too, so a token we sign always verifies.
  const checked = kind.schema.parse(payload);
  const envelope = options.expiresAt ? { ...checked, [EXPIRY_KEY]: Math.floor(options.expiresAt.getTime() / 1000) } : checked;
  const body = Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
  return `${body}.${mac(secret, kind.purpose, body).toString('base64url')}`;
}

/** Checks the signature (in constant time), the expiry and the payload's shape. Never throws for bad input. */
export function verifyToken<T extends object>(secret: string, kind: TokenKind<T>, token: string, now: Date = new Date()): VerifiedToken<T> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, body, signature] = match as unknown as [string, string, string];
  // Compared as text, not decoded bytes: base64url's last character has spare bits, and a decoded
  // comparison would accept several spellings of one signature.
  const given = Buffer.from(signature, 'latin1');
  const expected = Buffer.from(mac(secret, kind.purpose, body).toString('base64url'), 'latin1');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };

  let envelope: unknown;
  try {
    envelope = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid-payload' };
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) return { ok: false, reason: 'invalid-payload' };
  const { [EXPIRY_KEY]: expiry, ...payload } = envelope as Record<string, unknown>;
  if (expiry !== undefined && (typeof expiry !== 'number' || expiry * 1000 <= now.getTime())) return { ok: false, reason: 'expired' };
  const parsed = kind.schema.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: 'invalid-payload' };
  return expiry === undefined ? { ok: true, payload: parsed.data } : { ok: true, payload: parsed.data, expiresAt: new Date(expiry * 1000) };
}

/**
 * Derived keys per (secret, purpose): HKDF once, not on every pixel or click. Kept as KeyObjects:
 * createHmac with a Buffer key spends ~9 µs checking what kind of key it got, 5× the HMAC itself, and
 * every email of a 100,000-recipient send signs a link.
 */
const derivedKeys = new Map<string, KeyObject>();

function mac(secret: string, purpose: string, body: string): Buffer {
  const cacheKey = `${purpose}\u0000${secret}`;
  let key = derivedKeys.get(cacheKey);
  if (!key) {
    key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'nurture signed token', `purpose:${purpose}`, 32)));
    derivedKeys.set(cacheKey, key);
  }
  return createHmac('sha256', key).update(body).digest();
}
