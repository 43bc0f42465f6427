import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { z } from 'zod';

/**
 * URL-safe signed tokens for links in emails, in two forms: JSON tokens (unsubscribe links, site keys,
 * tracking links sent before compact tokens) `base64url(JSON payload).base64url(HMAC-SHA256)`, checked
 * against a zod schema; and compact tokens (below: tracking), a binary payload with a 128-bit MAC. The
 * HMAC key is derived from TRACKING_SECRET and the token's purpose, so a token made for one purpose never
 * verifies as another. Payloads carry ids (and a tracked link its address), never a person's address:
 * the payload is readable by whoever holds the link, only its integrity is protected.
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
 * Compact tokens, for what every email carries many times (tracking links and the open pixel), where a
 * byte saved is a byte saved per link per email: `base64url(bytes).base64url(HMAC-SHA256 cut to 128 bits)`.
 * The kind turns its payload into bytes and back itself (TokenBytesWriter / TokenBytesReader: varints and
 * short strings instead of JSON), the first byte being the kind's format version, so a format can evolve
 * while tokens already sent keep verifying. The key is derived apart from JSON tokens' keys, so a token of
 * one form never verifies as the other.
 *
 * 128 bits of MAC (22 characters instead of 43) are ample here: truncated HMAC-SHA256 keeps the strength of
 * its length (NIST SP 800-107), and a forger can only try tokens one request at a time against our server,
 * at 2^-128 per try; nothing in a token is secret, so there is nothing else to guess.
 */
export interface CompactTokenKind<T> {
  readonly purpose: string;
  /** Writes the payload (format byte first). Throws when the payload is not one it may sign. */
  encode(payload: T, out: TokenBytesWriter): void;
  /** The payload back, or undefined when the bytes are not a payload of a format it knows, checked strictly. */
  decode(input: TokenBytesReader): T | undefined;
}

export function defineCompactTokenKind<T>(purpose: string, codec: Omit<CompactTokenKind<T>, 'purpose'>): CompactTokenKind<T> {
  if (!/^[a-z][a-z0-9.-]*$/.test(purpose)) throw new Error(`token purpose "${purpose}" must be lower-case letters, digits, dots or dashes`);
  return Object.freeze({ purpose, encode: codec.encode, decode: codec.decode });
}

const COMPACT_MAC_BYTES = 16;
/** 16 bytes in base64url: 22 characters (the last with 4 spare bits, hence compared as text). */
const COMPACT_MAC_LENGTH = 22;
const COMPACT_TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/;

export function signCompactToken<T>(secret: string, kind: CompactTokenKind<T>, payload: T): string {
  const out = new TokenBytesWriter();
  kind.encode(payload, out);
  const body = out.toBuffer().toString('base64url');
  return `${body}.${compactMac(secret, kind.purpose, body)}`;
}

/** Checks the signature (in constant time), then decodes. Never throws for bad input. */
export function verifyCompactToken<T>(secret: string, kind: CompactTokenKind<T>, token: string): VerifiedToken<T> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !COMPACT_TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, -COMPACT_MAC_LENGTH - 1);
  if (!endsWithMac(token, compactMac(secret, kind.purpose, body))) return { ok: false, reason: 'bad-signature' };
  let payload: T | undefined;
  try {
    const input = new TokenBytesReader(Buffer.from(body, 'base64url'));
    payload = kind.decode(input);
    if (!input.done) payload = undefined;
  } catch {
    payload = undefined;
  }
  return payload === undefined ? { ok: false, reason: 'invalid-payload' } : { ok: true, payload };
}

/**
 * Whether the token's last COMPACT_MAC_LENGTH characters are `mac`, looking at every character whatever
 * differs (no early exit: the time says nothing about how much of a forged MAC was right). Text, not
 * decoded bytes, as for JSON tokens: the last character's spare bits allow several spellings of one MAC.
 * Without the two buffers timingSafeEqual needs: this runs on every click and open.
 */
function endsWithMac(token: string, mac: string): boolean {
  const offset = token.length - COMPACT_MAC_LENGTH;
  let difference = mac.length ^ COMPACT_MAC_LENGTH;
  for (let i = 0; i < COMPACT_MAC_LENGTH; i++) difference |= token.charCodeAt(offset + i) ^ mac.charCodeAt(i);
  return difference === 0;
}

/** Whether a token has the compact form's shape (its signature is 22 characters; a JSON token's is 43). */
export function isCompactToken(token: string): boolean {
  return token.length > COMPACT_MAC_LENGTH && token.charCodeAt(token.length - COMPACT_MAC_LENGTH - 1) === DOT;
}
const DOT = 46;

/** A compact payload being written: bytes, unsigned integers as varints, strings with their length first. */
export class TokenBytesWriter {
  #bytes = Buffer.allocUnsafe(64);
  #length = 0;

  byte(value: number): this {
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
    return this;
  }

  /** A non-negative safe integer, 7 bits per byte, low bits first (LEB128): ids and times take 3–5 bytes. */
  uint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`a token can only hold non-negative whole numbers, got ${value}`);
    let rest = value;
    while (rest >= 0x80) {
      this.byte((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    return this.byte(rest);
  }

  /** A string of 1 to `maxBytes` UTF-8 bytes (at most 255: its length takes one byte). */
  text(value: string, maxBytes: number): this {
    const length = Buffer.byteLength(value);
    if (length === 0 || length > maxBytes) throw new Error(`a token string must have 1 to ${maxBytes} bytes, got ${length}`);
    this.byte(length);
    this.#reserve(length);
    this.#length += this.#bytes.write(value, this.#length, 'utf8');
    return this;
  }

  bytes(value: Uint8Array): this {
    this.#reserve(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** A string taking the rest of the payload: the last field. */
  rest(value: string): this {
    const length = Buffer.byteLength(value);
    this.#reserve(length);
    this.#length += this.#bytes.write(value, this.#length, 'utf8');
    return this;
  }

  toBuffer(): Buffer {
    return this.#bytes.subarray(0, this.#length);
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#bytes.length * 2, this.#length + extra));
    this.#bytes.copy(grown, 0, 0, this.#length);
    this.#bytes = grown;
  }
}

/** Reads what TokenBytesWriter wrote; every read returns undefined past the end or on a value out of shape. */
export class TokenBytesReader {
  readonly #bytes: Buffer;
  #offset = 0;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Everything was read: a payload with bytes left over is refused. */
  get done(): boolean {
    return this.#offset === this.#bytes.length;
  }

  byte(): number | undefined {
    return this.#offset < this.#bytes.length ? this.#bytes[this.#offset++] : undefined;
  }

  /** The next byte, left to be read. */
  peekByte(): number | undefined {
    return this.#bytes[this.#offset];
  }

  uint(): number | undefined {
    let value = 0;
    let scale = 1;
    for (let index = 0; index < MAX_VARINT_BYTES; index++) {
      const byte = this.byte();
      if (byte === undefined) return undefined;
      value += (byte & 0x7f) * scale;
      // The shortest encoding only (no trailing zero byte): one value, one spelling.
      if (byte < 0x80) return (byte === 0 && index > 0) || !Number.isSafeInteger(value) ? undefined : value;
      scale *= 0x80;
    }
    return undefined;
  }

  text(maxBytes: number): string | undefined {
    const length = this.byte();
    if (length === undefined || length === 0 || length > maxBytes || this.#offset + length > this.#bytes.length) return undefined;
    const value = this.#bytes.toString('utf8', this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  /** The next `length` bytes (a view), or undefined when fewer are left. */
  bytes(length: number): Buffer | undefined {
    if (this.#offset + length > this.#bytes.length) return undefined;
    const value = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  rest(): string {
    const value = this.#bytes.toString('utf8', this.#offset);
    this.#offset = this.#bytes.length;
    return value;
  }
}

/** 2^53 needs 8 bytes of 7 bits. */
const MAX_VARINT_BYTES = 8;

/**
 * Derived keys per (HKDF info, secret): HKDF once, not on every pixel or click. Kept as KeyObjects:
 * createHmac with a Buffer key spends ~9 µs checking what kind of key it got, 5× the HMAC itself, and
 * every email of a 100,000-recipient send signs a link. Looked up by the info string made once per
 * purpose, so a lookup hashes no new string.
 */
const derivedKeys = new Map<string, Map<string, KeyObject>>();
const keyInfos = new Map<string, { json: string; compact: string }>();

function derivedKey(secret: string, purpose: string, form: 'json' | 'compact'): KeyObject {
  let infos = keyInfos.get(purpose);
  if (!infos) keyInfos.set(purpose, (infos = { json: `purpose:${purpose}`, compact: `compact:${purpose}` }));
  const info = infos[form];
  let bySecret = derivedKeys.get(info);
  if (!bySecret) derivedKeys.set(info, (bySecret = new Map()));
  let key = bySecret.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'nurture signed token', info, 32)));
    bySecret.set(secret, key);
  }
  return key;
}

function mac(secret: string, purpose: string, body: string): Buffer {
  return createHmac('sha256', derivedKey(secret, purpose, 'json')).update(body).digest();
}

function compactMac(secret: string, purpose: string, body: string): string {
  return createHmac('sha256', derivedKey(secret, purpose, 'compact')).update(body).digest().toString('base64url', 0, COMPACT_MAC_BYTES);
}
