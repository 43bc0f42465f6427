import { randomBytes } from 'node:crypto';
import { TokenKind, Tokenizer } from 'liquidjs';
import { Marked, type MarkedExtension, type RendererObject, type Tokens } from 'marked';
import { escapeHtml } from '../../lib/escape-html.ts';
import { plainLiquid } from './liquid-engines.ts';

/**
 * A Markdown body with Liquid in it, turned into the Liquid source of the HTML part and of the text part,
 * once per template (rendering per lead then costs only Liquid).
 *
 * marked must never see the Liquid: it would escape the quotes in `{{ first_name | default: "there" }}`,
 * percent-encode it inside a link, or read `*` and `_` in it as emphasis. So every `{{ … }}` and `{% … %}`
 * is swapped for a placeholder of letters and digits (which Markdown leaves alone everywhere, URLs
 * included), the Markdown is converted, and the Liquid is put back.
 *
 * A line holding only Liquid tags (`{% if company %}`) is made a block of its own, and a paragraph holding
 * only tags is not wrapped in <p>: so `{% if %}` … `{% endif %}` on lines of their own show or hide whole
 * paragraphs and lists, and either branch leaves well-formed HTML and no stray blank lines.
 */
export interface MarkdownParts {
  /** Liquid source of the HTML body (without the layout around it). */
  html: string;
  /** Liquid source of the plain-text body. */
  text: string;
  /** The body's web links, marked in both sources so each email can point them through click tracking. */
  links: MarkedLinks;
}

/**
 * Every http(s) link address, and every address made of merge fields, is wrapped in the html and text
 * sources as `<open>address<close>` (letters and digits with an unguessable nonce, so neither an author
 * nor a lead's data can forge one). After rendering, `pattern` finds each address as rendered (HTML-escaped
 * in the html part) for the renderer to replace; mailto:, tel: and relative links are left alone.
 */
export interface MarkedLinks {
  /** Group 1: the address as rendered. Global: for String.replace. */
  pattern: RegExp;
  /** Addresses without merge fields, as written: the same for every email. */
  staticUrls: ReadonlySet<string>;
  /** Distinct marked addresses (the same address twice is one link). */
  count: number;
}

interface Protected {
  markdown: string;
  /** Placeholder index → the Liquid it stands for. */
  liquid: string[];
  /** Finds the placeholders; the index is group 1. */
  placeholder: RegExp;
  /** Text of nothing but tag placeholders (`{% %}`, no `{{ }}`) and whitespace. */
  tagsOnly(text: string): boolean;
  /** Wraps a link address (already escaped for its part) in link markers when it may be tracked. */
  markLink(href: string, shown: string): string;
  links: MarkedLinks;
}

/** Expects Liquid that parses (validateTemplate first). */
export function markdownWithLiquid(body: string): MarkdownParts {
  const source = protectLiquid(body);
  const restore = (converted: string) => converted.replace(source.placeholder, (_match, index: string) => source.liquid[Number(index)]!);
  const html = markdownParser(htmlRenderer(source)).parse(source.markdown, { async: false });
  const text = markdownParser(textRenderer(source)).parse(source.markdown, { async: false });
  return { html: restore(html).trim(), text: restore(text).replace(/\n{3,}/g, '\n\n').trim(), links: source.links };
}

function protectLiquid(body: string): Protected {
  // Letters and digits only, and unguessable: an author's own text never looks like one.
  const nonce = randomBytes(4).toString('hex');
  const liquid: string[] = [];
  const tags = new Set<number>();
  let markdown = '';
  let at = 0;
  for (const token of new Tokenizer(body, plainLiquid.options.operators).readTopLevelTokens(plainLiquid.options)) {
    if (token.kind !== TokenKind.Tag && token.kind !== TokenKind.Output) continue;
    markdown += body.slice(at, token.begin);
    if (token.kind === TokenKind.Tag) tags.add(liquid.length);
    markdown += `lqd${nonce}n${liquid.length}x`;
    liquid.push(body.slice(token.begin, token.end));
    at = token.end;
  }
  markdown += body.slice(at);
  const placeholder = new RegExp(`lqd${nonce}n(\\d+)x`, 'g');
  const onlyPlaceholders = new RegExp(`^\\s*(?:lqd${nonce}n\\d+x\\s*)+$`);
  const tagsOnly = (text: string) => onlyPlaceholders.test(text) && [...text.matchAll(placeholder)].every((match) => tags.has(Number(match[1])));
  // A tag alone on its line becomes a block of its own (blank lines around it, no indent that would make it code).
  markdown = markdown
    .split('\n')
    .map((line) => (tagsOnly(line) ? `\n${line.trim()}\n` : line))
    .join('\n');
  const staticUrls = new Set<string>();
  const marked = new Set<string>();
  const links: MarkedLinks = { pattern: new RegExp(`trk${nonce}o(.*?)trk${nonce}c`, 'gs'), staticUrls, count: 0 };
  const hasLiquid = (text: string) => new RegExp(placeholder.source).test(text);
  const markLink = (href: string, shown: string) => {
    const dynamic = hasLiquid(href);
    if (!dynamic && !/^https?:\/\//i.test(href)) return shown;
    if (!dynamic) staticUrls.add(href);
    marked.add(href);
    links.count = marked.size;
    return `trk${nonce}o${shown}trk${nonce}c`;
  };
  return { markdown, liquid, placeholder, tagsOnly, markLink, links };
}

function markdownParser(extension: MarkedExtension): Marked {
  // breaks: a single Enter is a line break, as it looks when typed into Slack.
  return new Marked({ gfm: true, breaks: true }, extension);
}

/** Email clients ignore much of <style>: the essentials are inline. */
const INLINE = {
  p: 'margin:0 0 16px;',
  h1: 'margin:0 0 16px;font-size:26px;line-height:1.25;font-weight:700;',
  h2: 'margin:24px 0 12px;font-size:21px;line-height:1.3;font-weight:700;',
  h3: 'margin:20px 0 8px;font-size:18px;line-height:1.35;font-weight:700;',
  list: 'margin:0 0 16px;padding-left:24px;',
  li: 'margin:0 0 6px;',
  a: 'color:#1d4ed8;text-decoration:underline;',
  blockquote: 'margin:0 0 16px;padding:0 0 0 14px;border-left:3px solid #d1d5db;color:#4b5563;',
  img: 'max-width:100%;height:auto;border:0;',
} as const;

function htmlRenderer(source: Protected): MarkedExtension {
  const renderer: RendererObject = {
    paragraph({ tokens, text }) {
      // Nothing but tags: emitted bare, so a false `{% if %}` leaves no empty paragraph.
      if (source.tagsOnly(text)) return text.trim();
      return `<p style="${INLINE.p}">${this.parser.parseInline(tokens)}</p>\n`;
    },
    heading({ tokens, depth }) {
      const style = depth === 1 ? INLINE.h1 : depth === 2 ? INLINE.h2 : INLINE.h3;
      return `<h${depth} style="${style}">${this.parser.parseInline(tokens)}</h${depth}>\n`;
    },
    list(token) {
      const tag = token.ordered ? 'ol' : 'ul';
      const start = token.ordered && token.start !== 1 && token.start !== '' ? ` start="${Number(token.start)}"` : '';
      const items = token.items.map((item) => `<li style="${INLINE.li}">${this.parser.parse(item.tokens).trim()}</li>\n`).join('');
      return `<${tag}${start} style="${INLINE.list}">\n${items}</${tag}>\n`;
    },
    blockquote({ tokens }) {
      return `<blockquote style="${INLINE.blockquote}">\n${this.parser.parse(tokens)}</blockquote>\n`;
    },
    link({ href, title, tokens }) {
      return `<a href="${source.markLink(href, escapeHtml(href))}"${title ? ` title="${escapeHtml(title)}"` : ''} style="${INLINE.a}">${this.parser.parseInline(tokens)}</a>`;
    },
    image({ href, title, text }) {
      return `<img src="${escapeHtml(href)}" alt="${escapeHtml(text)}"${title ? ` title="${escapeHtml(title)}"` : ''} style="${INLINE.img}">`;
    },
  };
  return { renderer };
}

/** Plain text: paragraphs and headings as lines, lists with markers, links as "text (url)", emphasis dropped. */
function textRenderer(source: Protected): MarkedExtension {
  const renderer: RendererObject = {
    space: () => '',
    code: ({ text }) => `${text}\n\n`,
    blockquote({ tokens }) {
      return `${this.parser.parse(tokens).trim().split('\n').map((line) => `> ${line}`.trimEnd()).join('\n')}\n\n`;
    },
    html: ({ text }) => decodeEntities(text.replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]*>/g, '')),
    def: () => '',
    heading({ tokens }) {
      return `${this.parser.parseInline(tokens)}\n\n`;
    },
    hr: () => '----------\n\n',
    list(token) {
      const first = token.ordered && token.start !== '' ? Number(token.start) : 1;
      const lines = token.items.map((item, index) => {
        const marker = token.ordered ? `${first + index}. ` : '- ';
        // Each block of the item on its own line(s): a tight item's text and its nested list have no newline between them.
        const body = item.tokens.map((child) => this.parser.parse([child]).trim()).filter((part) => part !== '').join(item.loose ? '\n\n' : '\n');
        return marker + body.split('\n').join(`\n${' '.repeat(marker.length)}`);
      });
      return `${lines.join('\n')}\n\n`;
    },
    checkbox: ({ checked }) => (checked ? '[x] ' : '[ ] '),
    paragraph({ tokens, text }) {
      // Nothing but tags: emitted bare, so a false `{% if %}` leaves no empty paragraph.
      if (source.tagsOnly(text)) return text.trim();
      return `${this.parser.parseInline(tokens)}\n\n`;
    },
    table(token) {
      const cells = (row: Tokens.TableCell[]) => row.map((cell) => this.parser.parseInline(cell.tokens)).join(' | ');
      return `${[cells(token.header), ...token.rows.map(cells)].join('\n')}\n\n`;
    },
    strong({ tokens }) {
      return this.parser.parseInline(tokens);
    },
    em({ tokens }) {
      return this.parser.parseInline(tokens);
    },
    del({ tokens }) {
      return this.parser.parseInline(tokens);
    },
    codespan: ({ text }) => decodeEntities(text),
    br: () => '\n',
    link({ href, tokens }) {
      const text = this.parser.parseInline(tokens);
      // An autolink's text is its address; "mailto:" links read as the address alone.
      const url = href.startsWith('mailto:') ? href.slice('mailto:'.length) : href;
      const shown = source.markLink(href, url);
      return text === url || text === href ? shown : `${text} (${shown})`;
    },
    image: ({ text }) => text,
    text(token) {
      return 'tokens' in token && token.tokens ? this.parser.parseInline(token.tokens) : decodeEntities(token.text);
    },
  };
  return { renderer };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'", nbsp: ' ' };

/** Entities an author typed (`&amp;`) or marked produced, as the characters they stand for. */
function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|apos|nbsp);/g, (_entity, name: string) => ENTITIES[name]!);
}
