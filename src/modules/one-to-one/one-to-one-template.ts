import { compileTemplate } from '../templates/compile-template.ts';
import type { CompiledTemplate } from '../templates/template.ts';

/** What a rep wrote in the modal: Markdown as templates use it, already written for the one lead. */
export interface OneToOneContent {
  subject: string;
  body: string;
}

/**
 * The rep's email as a template the delivery pipeline renders (footer, tracking, text part) like any
 * other. Their words are sent as written: a `{{` or `{%` they typed is printed, not run as Liquid.
 * Throws TemplateInvalidError, as compileTemplate does, for the few things templates refuse that survive
 * this (e.g. a link address starting with `{{`): the submission shows them beside the field.
 */
export function compileOneToOne(content: OneToOneContent): CompiledTemplate {
  return compileTemplate({ name: '1:1 email', stage: 'decision', subject: literalLiquid(content.subject), preheader: '', body: literalLiquid(content.body) });
}

/** Each Liquid opening (`{{`, `{%`) becomes an output of itself, so the text renders exactly as given. */
function literalLiquid(text: string): string {
  return text.replace(/\{([{%])/g, (_opening, second: string) => `{{ "{${second}" }}`);
}
