import type { Liquid, Template } from 'liquidjs';
import { fastRenderer } from './fast-render.ts';
import { UserFacingError } from '../../lib/errors.ts';
import { htmlEmail, textEmail } from './email-layout.ts';
import { htmlLiquid, plainLiquid } from './liquid-engines.ts';
import { markdownWithLiquid } from './markdown-with-liquid.ts';
import { mergeScope, type MergeScope } from './merge-scope.ts';
import type { CompiledTemplate, EmailFooter, MergeLead, RenderedEmail, TemplateContent } from './template.ts';
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
  return {
    content: Object.freeze({ ...content }),
    render(lead: MergeLead, footer: EmailFooter): RenderedEmail {
      const scope = mergeScope(lead);
      const renderedSubject = headerText(subject(scope));
      const renderedPreheader = headerText(preheader(scope));
      return {
        subject: renderedSubject,
        preheader: renderedPreheader,
        html: htmlEmail({ subject: renderedSubject, preheader: renderedPreheader, bodyHtml: html(scope), footer }),
        text: textEmail(text(scope), footer),
      };
    },
  };
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
