import { LiquidError, type Liquid, type Template } from 'liquidjs';
import { FORBIDDEN_HTML_FILTERS, htmlLiquid, plainLiquid } from './liquid-engines.ts';
import { ATTRIBUTES_FIELD, MERGE_FIELDS } from './merge-scope.ts';
import type { TemplateContent } from './template.ts';

export const TEMPLATE_FIELDS = ['subject', 'preheader', 'body'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** Something that keeps a template from being saved: where (field and line, from 1) and why. */
export interface TemplateProblem {
  field: TemplateField;
  line: number;
  reason: string;
}

/** The body is HTML-escaped (and may not use `raw`); subject and preheader are plain text. */
const ENGINE_OF_FIELD: Record<TemplateField, Liquid> = { subject: plainLiquid, preheader: plainLiquid, body: htmlLiquid };

const KNOWN_FIELDS = new Set<string>(MERGE_FIELDS);
const FIELD_LIST = [...MERGE_FIELDS, `${ATTRIBUTES_FIELD}.<name>`].join(', ');

/**
 * Every problem of the template's Liquid, found without rendering: syntax errors and unknown filters
 * (the parser stops at the first one of a field), then every merge field that is not a lead field,
 * from liquidjs' static analysis (variables assigned in the template itself are fine).
 */
export function validateTemplate(content: Pick<TemplateContent, TemplateField>): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const field of TEMPLATE_FIELDS) {
    const parsed = parseField(field, content[field]);
    if (!parsed.ok) {
      problems.push(parsed.problem);
      continue;
    }
    problems.push(...unknownVariables(field, parsed.templates));
  }
  problems.push(...linksWithoutFixedScheme(content.body));
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.field}:${problem.line}:${problem.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parses one field with its engine; a Liquid error becomes a problem with its line. */
function parseField(field: TemplateField, source: string): { ok: true; templates: Template[] } | { ok: false; problem: TemplateProblem } {
  try {
    return { ok: true, templates: ENGINE_OF_FIELD[field].parse(source) };
  } catch (error) {
    if (!(error instanceof LiquidError)) throw error;
    const [line = 1] = error.token.getPosition();
    return { ok: false, problem: { field, line, reason: liquidReason(field, error) } };
  }
}

/** liquidjs' message without its ", line:2, col:7" (the problem carries the line), in our words where it helps. */
function liquidReason(field: TemplateField, error: LiquidError): string {
  const message = (error.originalError?.message ?? error.message).replace(/, line:\d+, col:\d+$/, '');
  const filter = /^undefined filter: (.+)$/.exec(message)?.[1];
  if (filter !== undefined) return (field === 'body' ? FORBIDDEN_HTML_FILTERS[filter] : undefined) ?? `there is no filter called "${filter}"`;
  const tag = /^tag "(.+)" not found$/.exec(message)?.[1];
  if (tag !== undefined) return `there is no tag called "${tag}"`;
  return message;
}

function unknownVariables(field: TemplateField, templates: Template[]): TemplateProblem[] {
  const { globals } = ENGINE_OF_FIELD[field].analyzeSync(templates, { partials: false });
  const problems: TemplateProblem[] = [];
  for (const [name, uses] of Object.entries(globals)) {
    for (const variable of uses) {
      const reason = variableProblem(name, variable.segments.length);
      if (reason) problems.push({ field, line: variable.location.row, reason });
    }
  }
  return problems.sort((a, b) => a.line - b.line);
}

function variableProblem(name: string, segments: number): string | undefined {
  if (KNOWN_FIELDS.has(name)) return undefined;
  if (name === ATTRIBUTES_FIELD) return segments > 1 ? undefined : `say which attribute, e.g. {{ ${ATTRIBUTES_FIELD}.plan }}`;
  return `there is no merge field "${name}"; use ${FIELD_LIST}`;
}

/** Problems as lines for a person: "line 3: there is no merge field …". */
export function describeProblems(problems: readonly TemplateProblem[]): string {
  return problems.map((problem) => `line ${problem.line}: ${problem.reason}`).join('\n');
}

/** Schemes a link may have when merge fields fill in the rest of it. */
const SAFE_LINK_START = /^<?(https?:\/\/|mailto:|tel:)/i;
/** A Markdown link or image target, `](…)`, or an autolink `<…>`, that has Liquid in it. */
const LINK_TARGET = /\]\(\s*(<?[^)\s]*)|<((?:[^<>\s]*)\{[{%][^<>]*)>/g;

/**
 * A link whose beginning comes from lead data could become `javascript:…` or point anywhere: a link
 * with merge fields in it must start with its own https://, http://, mailto: or tel: (then a field may
 * fill in a path or a parameter).
 */
function linksWithoutFixedScheme(body: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const match of body.matchAll(LINK_TARGET)) {
    const target = match[1] ?? match[2] ?? '';
    if (!/\{[{%]/.test(target) || SAFE_LINK_START.test(target)) continue;
    const line = body.slice(0, match.index).split('\n').length;
    problems.push({ field: 'body', line, reason: 'a link with merge fields must start with https://, http://, mailto: or tel: (a field may fill in the rest of it, not its beginning)' });
  }
  return problems;
}
