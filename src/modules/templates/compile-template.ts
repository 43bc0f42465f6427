import type { Template } from 'liquidjs';
import { UserFacingError } from '../../lib/errors.ts';
import { htmlEmail, textEmail } from './email-layout.ts';
import { htmlLiquid, plainLiquid } from './liquid-engines.ts';
import { markdownWithLiquid } from './markdown-with-liquid.ts';
import { mergeScope } from './merge-scope.ts';
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
  const subject = plainLiquid.parse(content.subject);
  const preheader = plainLiquid.parse(content.preheader);
  const html = htmlLiquid.parse(markdown.html);
  const text = plainLiquid.parse(markdown.text);
  return {
    content: Object.freeze({ ...content }),
    render(lead: MergeLead, footer: EmailFooter): RenderedEmail {
      const scope = mergeScope(lead);
      const renderedSubject = headerText(plainLiquid, subject, scope);
      const renderedPreheader = headerText(plainLiquid, preheader, scope);
      return {
        subject: renderedSubject,
        preheader: renderedPreheader,
        html: htmlEmail({ subject: renderedSubject, preheader: renderedPreheader, bodyHtml: htmlLiquid.renderSync(html, scope) as string, footer }),
        text: textEmail(plainLiquid.renderSync(text, scope) as string, footer),
      };
    },
  };
}

/** Subject and preheader are one line each, whatever line breaks a lead's data brings. */
function headerText(engine: typeof plainLiquid, templates: Template[], scope: object): string {
  return (engine.renderSync(templates, scope) as string).replace(/\s+/g, ' ').trim();
}
