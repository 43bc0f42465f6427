/**
 * Splits slash-command text into tokens. Double quotes group words ("Mfg VPs"); Slack clients turn
 * typed quotes into curly ones, so “ ” count too. Each token keeps its offset so parse errors can
 * point at it.
 */
export interface Token {
  value: string;
  start: number;
}

export class TokenizeError extends Error {
  override name = 'TokenizeError';
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

const OPEN_QUOTES = new Set(['"', '“', '”']);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    const start = i;
    let value = '';
    while (i < text.length && !/\s/.test(text[i]!)) {
      if (OPEN_QUOTES.has(text[i]!)) {
        const close = findClosingQuote(text, i + 1);
        if (close === -1) throw new TokenizeError('this quote is never closed', i);
        value += text.slice(i + 1, close);
        i = close + 1;
      } else {
        value += text[i];
        i += 1;
      }
    }
    tokens.push({ value: decodeSlackEntities(value), start });
  }
  return tokens;
}

function findClosingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i += 1) if (OPEN_QUOTES.has(text[i]!)) return i;
  return -1;
}

/**
 * Slack sends &, < and > typed by a person as &amp;, &lt; and &gt; (its own links and mentions keep real
 * angle brackets), so `employees>100` arrives as `employees&gt;100`.
 */
export function decodeSlackEntities(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_entity, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
}

/** `<@U123|name>` (escaped by Slack) or `<@U123>` → `U123`. */
export function parseUserMention(token: string): string | undefined {
  return /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(token)?.[1];
}
