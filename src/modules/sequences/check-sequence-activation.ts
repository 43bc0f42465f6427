import type { Services } from '../../services.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';
import { NO_POSTAL_ADDRESS_TEXT } from '../newsletters/submit-newsletter-modal.ts';
import { findSegmentById, type SegmentRow } from '../segments/queries.ts';
import type { Rule } from '../segments/rule.ts';
import { PREVIEW_UNSUBSCRIBE_URL } from '../templates/build-template-messages.ts';
import { compileTemplate } from '../templates/compile-template.ts';
import { emailSender } from '../templates/email-sender.ts';
import { listTemplates, SAMPLE_LEAD, templateContentOf } from '../templates/queries.ts';
import { POSTAL_ADDRESS_MISSING_FOOTER } from '../templates/send-test-email.ts';
import { TEMPLATE_STAGES, type TemplateStage } from '../templates/template.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { dayLabel, stepOffsets } from './build-sequence-messages.ts';
import type { Sequence } from './sequence.ts';

/**
 * What `/nurture sequence activate` checks first. Refusals stop it: nothing would go out right (no
 * steps, a template that does not render, no postal address for the footer, a trigger segment that is
 * gone). Warnings are shown and may be accepted: a step whose content stage does not fit its place in
 * the journey.
 */
export interface ActivationCheck {
  refusals: string[];
  warnings: string[];
  /** A segment trigger's segment: activation asks whether its members of today go through it too. */
  segment?: SegmentRow;
}

export const noStepsText = (name: string) => `It has no steps yet: add them with \`/nurture sequence edit "${escapeMrkdwn(name)}"\`.`;
export const TRIGGER_SEGMENT_GONE_TEXT = 'The segment that enrolls leads no longer exists: choose another with `/nurture sequence edit`.';
export const stepDoesNotRenderText = (position: number, templateName: string, problem: string) =>
  `Step ${position} does not render for a sample lead (${escapeMrkdwn(problem.replace(/\s+/g, ' ').trim())}). Fix the template with \`/nurture template edit "${escapeMrkdwn(templateName)}"\`.`;

export async function checkSequenceActivation(services: Services, teamId: string, sequence: Sequence): Promise<ActivationCheck> {
  const [settings, templates, segment] = await Promise.all([
    getWorkspaceSettings(services.sql, teamId),
    listTemplates(services.sql, teamId),
    sequence.trigger.kind === 'segment' ? findSegmentById(services.sql, teamId, sequence.trigger.segmentId) : Promise.resolve(undefined),
  ]);
  const refusals: string[] = [];
  if (sequence.steps.length === 0) refusals.push(noStepsText(sequence.name));
  if (!settings.postalAddress) refusals.push(NO_POSTAL_ADDRESS_TEXT);
  if (sequence.trigger.kind === 'segment' && !segment) refusals.push(TRIGGER_SEGMENT_GONE_TEXT);

  const byId = new Map(templates.map((template) => [template.id, template]));
  const footer = {
    senderName: sequence.senderName ?? emailSender(services.config, settings).name,
    postalAddress: settings.postalAddress ?? POSTAL_ADDRESS_MISSING_FOOTER,
    unsubscribeUrl: PREVIEW_UNSUBSCRIBE_URL,
  };
  for (const [index, step] of sequence.steps.entries()) {
    const template = byId.get(step.templateId);
    if (!template) {
      refusals.push(`Step ${index + 1}'s template no longer exists: choose another with \`/nurture sequence edit\`.`);
      continue;
    }
    try {
      compileTemplate(templateContentOf(template)).render(SAMPLE_LEAD, footer);
    } catch (error) {
      refusals.push(stepDoesNotRenderText(index + 1, template.name, error instanceof Error ? error.message : String(error)));
    }
  }

  const offsets = stepOffsets(sequence.steps);
  const journey = sequence.steps.flatMap((step, index) => {
    const template = byId.get(step.templateId);
    return template ? [{ position: index + 1, day: dayLabel(offsets[index]!), name: template.name, stage: template.stage }] : [];
  });
  const warnings = stageWarnings(journey, segment ? audienceStageOf(segment.rule) : undefined);
  return { refusals, warnings, ...(segment ? { segment } : {}) };
}

const rank = (stage: TemplateStage) => TEMPLATE_STAGES.indexOf(stage);

/**
 * Content should meet leads where they are and move them along: the first email fits the audience's
 * stage (when the trigger's segment names one), and along the steps the stages never go backwards and
 * never skip one (awareness → decision).
 */
export function stageWarnings(journey: ReadonlyArray<{ position: number; day: string; name: string; stage: TemplateStage }>, audienceStage?: TemplateStage): string[] {
  const warnings: string[] = [];
  let current = audienceStage;
  let previous: (typeof journey)[number] | undefined;
  for (const step of journey) {
    const what = `Step ${step.position} (${escapeMrkdwn(step.name)}, ${step.day.toLowerCase()}) is *${step.stage}* content`;
    if (current !== undefined && rank(step.stage) < rank(current)) {
      warnings.push(previous ? `${what} after *${current}* content: the journey goes backwards.` : `${what} for *${current}* leads: they are past it.`);
    } else if (current !== undefined && rank(step.stage) > rank(current) + 1) {
      warnings.push(previous ? `${what} right after *${current}* content: it skips *${TEMPLATE_STAGES[rank(current) + 1]}*.` : `${what} for *${current}* leads: too far ahead for them.`);
    }
    current = current === undefined || rank(step.stage) > rank(current) ? step.stage : current;
    previous = step;
  }
  return warnings;
}

/**
 * The stage a segment's leads are in, when its rule says so at the top (`stage:awareness`, or the
 * earliest of `stage:awareness,consideration`); undefined when it does not name one.
 */
export function audienceStageOf(rule: Rule): TemplateStage | undefined {
  if (rule.type === 'all') {
    for (const part of rule.rules) {
      const stage = audienceStageOf(part);
      if (stage) return stage;
    }
    return undefined;
  }
  if (rule.type !== 'field' || rule.field !== 'stage' || (rule.op !== 'equals' && rule.op !== 'one_of')) return undefined;
  const named = [rule.value].flat().filter((stage): stage is TemplateStage => (TEMPLATE_STAGES as readonly string[]).includes(stage));
  return named.sort((a, b) => rank(a) - rank(b))[0];
}
