import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineCompactTokenKind,
  defineTokenKind,
  isCompactToken,
  signCompactToken,
  signToken,
  TokenBytesReader,
  TokenBytesWriter,
  verifyCompactToken,
  verifyToken,
} from '../../src/lib/signed-token.ts';
import { readUnsubscribeToken, unsubscribeToken } from '../../src/modules/unsubscribes/unsubscribe-token.ts';

const SECRET = 'tracking-secret-for-tests-only-0123456789';
const ClickToken = defineTokenKind('click', z.object({ l: z.number().int(), u: z.number().int() }).strict());
const OpenToken = defineTokenKind('open', z.object({ l: z.number().int(), u: z.number().int() }).strict());

/** Replaces one character with another from the base64url alphabet. */
const flip = (token: string, index: number) => token.slice(0, index) + (token[index] === 'A' ? 'B' : 'A') + token.slice(index + 1);

describe('signed tokens', () => {
  it('round-trips a payload in a compact, URL-safe token', () => {
    const token = signToken(SECRET, ClickToken, { l: 123456, u: 7 });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(token)).toBe(token);
    expect(token.length).toBeLessThan(80);
    expect(verifyToken(SECRET, ClickToken, token)).toEqual({ ok: true, payload: { l: 123456, u: 7 } });
  });

  it('carries ids, never an address', () => {
    const token = unsubscribeToken(SECRET, { teamId: 'T0123', leadId: 42, sendId: 9 });
    const payload = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(payload).toEqual({ w: 'T0123', l: 42, s: 9 });
    expect(readUnsubscribeToken(SECRET, token)).toEqual({ ok: true, target: { teamId: 'T0123', leadId: 42, sendId: 9 } });
  });

  it('refuses any change to the payload or the signature', () => {
    const token = signToken(SECRET, ClickToken, { l: 1, u: 2 });
    const [body, signature] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ l: 2, u: 2 })).toString('base64url');
    expect(verifyToken(SECRET, ClickToken, `${forged}.${signature}`)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyToken(SECRET, ClickToken, flip(token, 0))).toEqual({ ok: false, reason: 'bad-signature' });
    // Every character of the signature counts, the last one (with base64's spare bits) included.
    for (const index of [body.length + 1, token.length - 1]) {
      expect(verifyToken(SECRET, ClickToken, flip(token, index))).toEqual({ ok: false, reason: 'bad-signature' });
    }
    expect(verifyToken('another-secret-of-at-least-32-characters!', ClickToken, token)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('never accepts a token made for another purpose, even with the same payload', () => {
    const click = signToken(SECRET, ClickToken, { l: 1, u: 2 });
    const open = signToken(SECRET, OpenToken, { l: 1, u: 2 });
    expect(click.split('.')[0]).toBe(open.split('.')[0]);
    expect(verifyToken(SECRET, OpenToken, click)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyToken(SECRET, ClickToken, open)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(readUnsubscribeToken(SECRET, signToken(SECRET, defineTokenKind('click', z.object({ w: z.string(), l: z.number() })), { w: 'T1', l: 1 }))).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('expires when asked to, and only then', () => {
    const now = new Date('2026-11-27T09:00:00Z');
    const token = signToken(SECRET, ClickToken, { l: 1, u: 2 }, { expiresAt: new Date('2026-11-28T09:00:00Z') });
    expect(verifyToken(SECRET, ClickToken, token, now)).toEqual({ ok: true, payload: { l: 1, u: 2 }, expiresAt: new Date('2026-11-28T09:00:00Z') });
    expect(verifyToken(SECRET, ClickToken, token, new Date('2026-11-28T09:00:00Z'))).toEqual({ ok: false, reason: 'expired' });
    expect(verifyToken(SECRET, ClickToken, signToken(SECRET, ClickToken, { l: 1, u: 2 }), new Date('2100-01-01'))).toMatchObject({ ok: true });
  });

  it('refuses garbage without throwing', () => {
    for (const garbage of ['', '.', 'abc', 'a.b', 'a.b.c', '%E0%A4%A', `${'A'.repeat(5000)}.${'A'.repeat(43)}`, 'eyJsIjoxfQ.' + '!'.repeat(43), undefined as unknown as string]) {
      expect(verifyToken(SECRET, ClickToken, garbage)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses a correctly signed payload that does not fit the schema', () => {
    const Loose = defineTokenKind('click', z.object({ l: z.unknown() }));
    expect(verifyToken(SECRET, ClickToken, signToken(SECRET, Loose, { l: 'not a number' }))).toEqual({ ok: false, reason: 'invalid-payload' });
  });

  it('tells the caller what it did wrong when signing', () => {
    expect(() => signToken(SECRET, ClickToken, { l: 1.5, u: 2 })).toThrow();
    expect(() => signToken(SECRET, defineTokenKind('x', z.object({ exp: z.number() })), { exp: 1 })).toThrow(/may not have a field named "exp"/);
    expect(() => defineTokenKind('Not Valid', z.object({}))).toThrow(/lower-case/);
  });
});

/** A compact kind for the tests: a lead id and a short name (signed-token.ts, compact tokens). */
const Visit = defineCompactTokenKind<{ l: number; n: string }>('visit', {
  encode: (payload, out) => void out.byte(1).uint(payload.l).text(payload.n, 8),
  decode(input) {
    if (input.byte() !== 1) return undefined;
    const l = input.uint();
    const n = input.text(8);
    return l === undefined || n === undefined ? undefined : { l, n };
  },
});

describe('compact signed tokens', () => {
  it('round-trips a payload in a token about half as long as the JSON form, with a 22-character signature', () => {
    const token = signCompactToken(SECRET, Visit, { l: 123456, n: 'pricing' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(encodeURIComponent(token)).toBe(token);
    expect(token.length).toBeLessThan(signToken(SECRET, defineTokenKind('visit', z.object({ l: z.number(), n: z.string() })), { l: 123456, n: 'pricing' }).length / 2);
    expect(verifyCompactToken(SECRET, Visit, token)).toEqual({ ok: true, payload: { l: 123456, n: 'pricing' } });
    expect(isCompactToken(token)).toBe(true);
    expect(isCompactToken(signToken(SECRET, ClickToken, { l: 1, u: 2 }))).toBe(false);
  });

  it('refuses a change to any character, another secret, another purpose, and the JSON form', () => {
    const token = signCompactToken(SECRET, Visit, { l: 42, n: 'a' });
    for (let index = 0; index < token.length; index++) {
      if (token[index] === '.') continue;
      expect(verifyCompactToken(SECRET, Visit, flip(token, index)), `character ${index}`).toEqual({ ok: false, reason: 'bad-signature' });
    }
    expect(verifyCompactToken('another-secret-of-at-least-32-characters!', Visit, token)).toEqual({ ok: false, reason: 'bad-signature' });
    const other = defineCompactTokenKind('visit-other', { encode: Visit.encode, decode: Visit.decode });
    expect(verifyCompactToken(SECRET, other, token)).toEqual({ ok: false, reason: 'bad-signature' });
    // The same purpose in the other form: neither shape nor key fits.
    const json = signToken(SECRET, defineTokenKind('visit', z.object({ l: z.number(), n: z.string() })), { l: 42, n: 'a' });
    expect(verifyCompactToken(SECRET, Visit, json)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyCompactToken(SECRET, Visit, `${json.split('.')[0]}.${json.split('.')[1]!.slice(0, 22)}`)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses correctly signed bytes of an unknown format, cut short or with bytes left over', () => {
    const writing = (encode: (out: TokenBytesWriter) => void) => defineCompactTokenKind<object>('visit', { encode: (_payload, out) => encode(out), decode: () => undefined });
    const signed = (encode: (out: TokenBytesWriter) => void) => signCompactToken(SECRET, writing(encode), {});
    for (const token of [
      signed((out) => out.byte(2).uint(1).text('a', 8)), // format 2
      signed((out) => out.byte(1).uint(1)), // no name
      signed((out) => out.byte(1).uint(1).text('a', 8).byte(0)), // a byte too many
      signed((out) => out.byte(1).byte(0x81).byte(0x00).text('a', 8)), // 1 written in two bytes
      signed((out) => out.byte(1).uint(1).text('abcdefghi', 9)), // a name over 8 bytes
    ]) {
      expect(verifyCompactToken(SECRET, Visit, token)).toEqual({ ok: false, reason: 'invalid-payload' });
    }
  });

  it('refuses garbage without throwing', () => {
    for (const garbage of ['', '.', 'abc', 'a.b', `a.${'A'.repeat(21)}`, `a.b.${'A'.repeat(22)}`, `${'A'.repeat(3000)}.${'A'.repeat(22)}`, `!.${'A'.repeat(22)}`, undefined as unknown as string]) {
      expect(verifyCompactToken(SECRET, Visit, garbage)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('writes whole numbers as varints of one spelling, and refuses what it cannot hold', () => {
    for (const value of [0, 1, 127, 128, 300, 1_764_254_400, Number.MAX_SAFE_INTEGER]) {
      const reader = new TokenBytesReader(new TokenBytesWriter().uint(value).toBuffer());
      expect(reader.uint()).toBe(value);
      expect(reader.done).toBe(true);
    }
    expect(new TokenBytesWriter().uint(127).toBuffer()).toHaveLength(1);
    expect(new TokenBytesWriter().uint(128).toBuffer()).toHaveLength(2);
    expect(() => new TokenBytesWriter().uint(-1)).toThrow(/non-negative whole numbers/);
    expect(() => new TokenBytesWriter().uint(1.5)).toThrow(/non-negative whole numbers/);
    expect(() => new TokenBytesWriter().text('', 8)).toThrow(/1 to 8 bytes/);
    expect(() => signCompactToken(SECRET, Visit, { l: 1, n: 'much too long' })).toThrow(/1 to 8 bytes/);
    expect(new TokenBytesReader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).uint()).toBeUndefined();
  });
});
