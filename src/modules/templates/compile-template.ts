import { createHash } from 'node:crypto';
import type { Liquid, Template } from 'liquidjs';
import { escapeHtml } from '../../lib/escape-html.ts';
import { fastRenderer } from './fast-render.ts';
import { UserFacingError } from '../../lib/errors.ts';
import { htmlEmail, textEmail } from './email-layout.ts';
import { htmlLiquid, plainLiquid } from './liquid-engines.ts';
import { markdownWithLiquid } from './markdown-with-liquid.ts';
import { mergeScope, type MergeScope } from './merge-scope.ts';
import type { MarkedLinks } from './markdown-with-liquid.ts';
import type { CompiledTemplate, EmailFooter, EmailTracking, MergeLead, RenderedEmail, TemplateContent } from './template.ts';
import { describeProblems, validateTemplate, type TemplateProblem } from './validate-template.ts';

/** A template that cannot be compiled: its Liquid has problems (stored templates were validated when saved). */
export class TemplateInvalidError extends UserFacingError {
  override name = 'TemplateInvalidError';
  readonly problems: readonly TemplateProblem[];
  constructor(name: string, problems: readonly TemplateProblem[]) {
    super(`The template "${name}" has problems:\n${problems.map((problem) => `${problem.field} ${describeProblems([problem])}`).join('\n')}`);
    this.problems = problems;
  }
}

/**
 * Parses a template once, for rendering many times: the Markdown body becomes an HTML and a text Liquid
 * template here, so a render is four Liquid renders over one merge scope and a few string joins (a chunk
 * of 100 emails renders 100 times; a newsletter to 100,000 people must render at thousands per second).
 * Throws TemplateInvalidError when validateTemplate finds problems.
 */
export function compileTemplate(content: TemplateContent): CompiledTemplate {
  const problems = validateTemplate(content);
  if (problems.length > 0) throw new TemplateInvalidError(content.name, problems);
  const markdown = markdownWithLiquid(content.body);
  const subject = renderer(plainLiquid, content.subject);
  const preheader = renderer(plainLiquid, content.preheader);
  const html = renderer(htmlLiquid, markdown.html);
  const text = renderer(plainLiquid, markdown.text);
  const { links } = markdown;
  return {
    content: Object.freeze({ ...content }),
    version: templateVersion(content),
    staticUrls: links.staticUrls,
    linkCount: links.count,
    render(lead: MergeLead, footer: EmailFooter, tracking?: EmailTracking): RenderedEmail {
      const scope = mergeScope(lead);
      const renderedSubject = headerText(subject(scope));
      const renderedPreheader = headerText(preheader(scope));
      const bodyHtml = trackLinks(html(scope), links, tracking, true);
      return {
        subject: renderedSubject,
        preheader: renderedPreheader,
        html: htmlEmail({ subject: renderedSubject, preheader: renderedPreheader, bodyHtml, footer, ...(tracking ? { tracking } : {}) }),
        text: textEmail(trackLinks(text(scope), links, tracking, false), footer),
      };
    },
  };
}

/** A short hash of what the template says: two compilations of the same content share their link tokens. */
function templateVersion(content: TemplateContent): string {
  const { name, stage, subject, preheader, body } = content;
  return createHash('sha256').update(JSON.stringify([name, stage, subject, preheader, body])).digest('base64url').slice(0, 16);
}

/** Replaces each marked link address (markdown-with-liquid.ts) with its tracked one, or with itself. */
function trackLinks(rendered: string, links: MarkedLinks, tracking: EmailTracking | undefined, html: boolean): string {
  if (links.count === 0) return rendered;
  return rendered.replace(links.pattern, (_match, shown: string) => {
    if (!tracking) return shown;
    const url = html ? unescapeHtml(shown) : shown;
    // A merge field may have rendered anything: only web addresses are tracked.
    if (!/^https?:\/\/[^\s]+$/i.test(url)) return shown;
    const tracked = tracking.clickUrl(url);
    return html ? escapeHtml(tracked) : tracked;
  });
}

const HTML_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#34;': '"', '&#39;': "'" };

/** Undoes escapeHtml and liquidjs' escape (the entities they write, nothing more). */
function unescapeHtml(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#34|#39);/g, (entity) => HTML_ENTITIES[entity]!);
}

/** Merge fields only: joined directly (fast-render.ts); anything more: the Liquid engine. */
function renderer(engine: Liquid, source: string): (scope: MergeScope) => string {
  const fast = fastRenderer(source, engine === htmlLiquid);
  if (fast) return fast;
  const templates: Template[] = engine.parse(source);
  return (scope) => engine.renderSync(templates, scope) as string;
}

/** Subject and preheader are one line each, whatever line breaks a lead's data brings. */
function headerText(rendered: string): string {
  return rendered.replace(/\s+/g, ' ').trim();
}
