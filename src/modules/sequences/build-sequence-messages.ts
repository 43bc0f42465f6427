import type { Button, KnownBlock } from '@slack/types';
import { ActionIds } from '../../slack/ids.ts';
import type { SlackMessage } from '../../slack/messages.ts';
import { clip, escapeMrkdwn, packLinesIntoSections, SECTION_MAX_CHARS } from '../../slack/mrkdwn.ts';
import type { StepStatsRow } from './queries.ts';
import type { LeadRun } from './runs.ts';
import type { ExitReason, SendWindow, Sequence, SequenceStatus, SequenceStep, StepCondition, Trigger } from './sequence.ts';
import { eventPropertiesText } from './parse-sequence-text.ts';

/** Replies and card text about sequences (list, show, answers, the lead card's lines). Pure; tests assert on these. */

const n = (value: number) => value.toLocaleString('en-US');
const plural = (count: number, one: string, many = `${one}s`) => `${n(count)} ${count === 1 ? one : many}`;
const percent = (part: number, whole: number) => `${Math.round((100 * part) / Math.max(whole, 1))}%`;
/** Names are the person's words: shown as text, never as Slack markup. */
export const sequenceName = (name: string) => `*${escapeMrkdwn(name)}*`;

const MINUTES_PER_DAY = 1440;

/** A step's template as the builder and the cards name it. */
export interface StepTemplate {
  name: string;
  stage: string;
}

// ---- describing a definition ------------------------------------------------------------------------

export function formatDelay(minutes: number): string {
  if (minutes === 0) return 'right away';
  if (minutes % MINUTES_PER_DAY === 0) return plural(minutes / MINUTES_PER_DAY, 'day');
  if (minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}

/** "3 days after the previous step"; the first step's "previous" is the enrollment. */
export function delayText(step: Pick<SequenceStep, 'delayMinutes' | 'delayFrom'>, index: number): string {
  const after = step.delayFrom === 'enrollment' || index === 0 ? 'enrollment' : 'the previous step';
  if (step.delayMinutes === 0) return after === 'enrollment' ? 'right at enrollment' : 'right after the previous step';
  return `${formatDelay(step.delayMinutes)} after ${after}`;
}

export function conditionText(condition: StepCondition): string {
  switch (condition.kind) {
    case 'previous_not_clicked':
      return 'only if the previous email was not clicked';
    case 'previous_not_opened':
      return 'only if the previous email was not opened';
    case 'stage':
      return `only if the lead is in ${condition.stages.join(' or ')}`;
    case 'not_visited':
      return `skipped if the lead visited ${condition.url} in the last ${plural(condition.days, 'day')}`;
  }
}

/** `segmentName`: the trigger's segment by name; null when it no longer exists. */
export function triggerText(trigger: Trigger, segmentName?: string | null): string {
  switch (trigger.kind) {
    case 'segment':
      return segmentName ? `a lead enters the segment ${sequenceName(segmentName)}` : 'a lead enters a segment that no longer exists';
    case 'event': {
      const filters = eventPropertiesText(trigger.properties);
      return `a lead does \`${trigger.name}\`${filters ? ` with ${escapeMrkdwn(filters)}` : ''}`;
    }
    case 'manual':
      return 'someone enrolls a lead (`/nurture sequence enroll`)';
  }
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export function windowText(window: SendWindow): string {
  const days = [...window.days].sort((a, b) => a - b);
  const which = days.length === 7 ? 'every day' : days.join() === '1,2,3,4,5' ? 'weekdays' : days.map((day) => WEEKDAYS[day - 1]).join(', ');
  const holidays = window.holidays === 'jp' ? ', not on Japanese national holidays' : '';
  return `${which} ${window.start}–${window.end} in the lead's own time zone${holidays}`;
}

/** Minutes from enrollment to each step (before the send window moves it to its next opening). */
export function stepOffsets(steps: ReadonlyArray<Pick<SequenceStep, 'delayMinutes' | 'delayFrom'>>): number[] {
  const offsets: number[] = [];
  for (const [index, step] of steps.entries()) {
    const previous = index === 0 ? 0 : offsets[index - 1]!;
    offsets.push(step.delayFrom === 'enrollment' ? step.delayMinutes : previous + step.delayMinutes);
  }
  return offsets;
}

/** "Day 3", or "Day 0 +2h" for a step within the day. */
export function dayLabel(offsetMinutes: number): string {
  const days = Math.floor(offsetMinutes / MINUTES_PER_DAY);
  const rest = offsetMinutes % MINUTES_PER_DAY;
  const within = rest === 0 ? '' : rest % 60 === 0 ? ` +${rest / 60}h` : ` +${Math.floor(rest / 60) > 0 ? `${Math.floor(rest / 60)}h` : ''}${rest % 60}m`;
  return `Day ${days}${within}`;
}

/** "Day 0 Thank you · Day 3 Case study · Day 7 Pricing". */
export function timelineText(steps: readonly SequenceStep[], templates: ReadonlyMap<number, StepTemplate>): string {
  if (steps.length === 0) return '_No steps yet._';
  const offsets = stepOffsets(steps);
  return steps.map((step, index) => `${dayLabel(offsets[index]!)} ${escapeMrkdwn(templates.get(step.templateId)?.name ?? 'a template that no longer exists')}`).join(' · ');
}

/** One step: its place, template and stage, when, and its condition. */
export function stepLine(step: SequenceStep, index: number, template: StepTemplate | undefined): string {
  const what = template ? `*${escapeMrkdwn(template.name)}* _(${template.stage})_` : '_a template that no longer exists_';
  return `*${index + 1}.* ${what} — ${delayText(step, index)}${step.condition ? ` · ${conditionText(step.condition)}` : ''}`;
}

export const STATUS_WORDS: Record<SequenceStatus, string> = {
  draft: ':memo: draft',
  active: ':large_green_circle: active',
  paused: ':double_vertical_bar: paused',
  archived: ':file_cabinet: archived',
};

// ---- list and show ----------------------------------------------------------------------------------

/** "sent 120 · opened 45% · clicked 12%": rates over the emails Resend accepted. */
export function statsText(row: Pick<StepStatsRow, 'sent' | 'opened' | 'clicked'>): string {
  if (row.sent === 0) return 'nothing sent yet';
  return `sent ${n(row.sent)} · opened ${percent(row.opened, row.sent)} · clicked ${percent(row.clicked, row.sent)}`;
}

function statsLines(steps: readonly StepStatsRow[]): string[] {
  let live = 0;
  return steps.map((step) => {
    const place = step.removed ? '–' : `${(live += 1)}.`;
    return `      ${place} ${escapeMrkdwn(step.template_name)}${step.removed ? ' _(removed)_' : ''} — ${statsText(step)}`;
  });
}

export interface ListedSequence {
  id: number;
  name: string;
  status: SequenceStatus;
  activeRuns: number;
  steps: readonly StepStatsRow[];
}

export const NO_SEQUENCES_TEXT = 'There are no sequences yet. Marketers build them with `/nurture sequence new`.';

/** `/nurture sequence list`: status, people in it now, and per step how it did. */
export function sequenceListMessage(listed: readonly ListedSequence[]): SlackMessage {
  if (listed.length === 0) return { text: NO_SEQUENCES_TEXT };
  const lines = listed.map((sequence) => {
    const steps = sequence.steps.length === 0 ? ['      _no steps yet_'] : statsLines(sequence.steps);
    return [`• ${sequenceName(sequence.name)} — ${STATUS_WORDS[sequence.status]} · ${plural(sequence.activeRuns, 'person', 'people')} in it now`, ...steps].join('\n');
  });
  const { blocks, shown } = packLinesIntoSections<KnownBlock>(
    { type: 'section', text: { type: 'mrkdwn', text: `*Sequences* (${n(listed.length)}) — per step: emails sent, and how many of them were opened and clicked` } },
    lines.map((line) => clip(line, SECTION_MAX_CHARS)),
    (text) => ({ type: 'section', text: { type: 'mrkdwn', text } }),
  );
  const more = shown < lines.length ? `…and ${n(lines.length - shown)} more. ` : '';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${more}One in detail: \`/nurture sequence show <name>\`` }] });
  return { text: `${plural(listed.length, 'sequence')}`, blocks };
}

export interface ShownSequence {
  sequence: Sequence;
  templates: ReadonlyMap<number, StepTemplate>;
  /** The trigger's segment; null when it no longer exists. */
  segmentName?: string | null;
  activeRuns: number;
  stats: readonly StepStatsRow[];
}

/** `/nurture sequence show <name>`: what it is for, the timeline, trigger, window, sender, and how each step did. */
export function sequenceShowMessage({ sequence, templates, segmentName, activeRuns, stats }: ShownSequence): SlackMessage {
  const byStep = new Map(stats.map((row) => [row.step_id, row]));
  const stepLines = sequence.steps.map((step, index) => {
    const row = byStep.get(step.id);
    return `${stepLine(step, index, templates.get(step.templateId))}\n      ${row ? statsText(row) : 'nothing sent yet'}`;
  });
  const removed = stats.filter((row) => row.removed).map((row) => `– ${escapeMrkdwn(row.template_name)} _(removed)_ — ${statsText(row)}`);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(sequence.name, 150) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          `${STATUS_WORDS[sequence.status]} · ${plural(activeRuns, 'person', 'people')} in it now` +
            (sequence.goal ? `\n*Goal:* ${escapeMrkdwn(sequence.goal)}` : '') +
            (sequence.goalEvent ? `\n*Ends a lead's run when they do* \`${sequence.goalEvent}\`` : ''),
          SECTION_MAX_CHARS,
        ),
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`*Timeline*\n${timelineText(sequence.steps, templates)}`, SECTION_MAX_CHARS) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: clip(`*Starts when*\n${triggerText(sequence.trigger, segmentName)}`, 2000) },
        { type: 'mrkdwn', text: `*Sends*\n${windowText(sequence.sendWindow)}` },
        { type: 'mrkdwn', text: clip(`*From*\n${sequence.senderName ? escapeMrkdwn(sequence.senderName) : 'the workspace sender name'}${sequence.replyTo ? `, replies to ${escapeMrkdwn(sequence.replyTo)}` : ''}`, 2000) },
        { type: 'mrkdwn', text: `*Enrolls a lead again*\n${sequence.reenrollAfterDays === null ? 'never' : `${plural(sequence.reenrollAfterDays, 'day')} after their last run ended`}` },
      ],
    },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Steps*\n${[...(stepLines.length > 0 ? stepLines : ['_No steps yet._']), ...removed].join('\n')}`, SECTION_MAX_CHARS) },
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'Opened and clicked: of the emails Resend accepted. Steps wait for the send window, and the frequency cap may hold one back a day or two.' }] },
  ];
  return { text: `Sequence ${sequence.name}: ${sequence.status}`, blocks };
}

// ---- answers to commands -------------------------------------------------------------------------------

export const enrolledText = (name: string, result: { enrolled: number; alreadyIn: number; ineligible: number }) => {
  const parts = [`enrolled *${n(result.enrolled)}*`];
  if (result.alreadyIn > 0) parts.push(`${n(result.alreadyIn)} already in it`);
  if (result.ineligible > 0) parts.push(`${n(result.ineligible)} left out (unsubscribed, bounced or complained, customers, or not due to go through it again yet)`);
  return `${result.enrolled > 0 ? ':white_check_mark:' : ':information_source:'} ${sequenceName(name)}: ${parts.join(' · ')}.`;
};

export const removedText = (name: string, email: string) =>
  `:white_check_mark: Removed ${escapeMrkdwn(email)} from ${sequenceName(name)}: nothing more from it goes to them.`;
export const notInSequenceText = (name: string, email: string) => `${escapeMrkdwn(email)} is not in ${sequenceName(name)} right now: nothing to remove.`;

/** "1 person in it waits", "3 people in it wait". */
const inIt = (people: number, one: string, many: string) => `${plural(people, 'person', 'people')} in it ${people === 1 ? one : many}`;

export const pausedText = (name: string, people: number) =>
  `:double_vertical_bar: Paused ${sequenceName(name)}: no step goes out until it is resumed. ${inIt(people, 'waits', 'wait')} where they are; \`/nurture sequence resume\` picks them up again.`;
export const resumedText = (name: string, people: number) =>
  `:arrow_forward: Resumed ${sequenceName(name)}. ${inIt(people, 'goes', 'go')} on from where they were, the next step moved into the send window.`;

/** The run-time side's refusal (it names the sequence itself). */
export const refusedText = (reason: string) => `:x: ${escapeMrkdwn(reason)}`;

/** Archiving ends everyone's run: the command asks first. */
export function archiveConfirmation(sequence: { id: number; name: string }, people: number): SlackMessage {
  const text = `Archive ${sequenceName(sequence.name)}? Everyone in it (${plural(people, 'person', 'people')} now) leaves it and gets none of its remaining steps. It cannot be undone; its stats stay.`;
  return {
    text: `Archive the sequence ${sequence.name}?`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: ActionIds.sequenceArchiveConfirm,
            style: 'danger',
            text: { type: 'plain_text', text: 'Archive it' },
            value: String(sequence.id),
            confirm: {
              title: { type: 'plain_text', text: 'Archive for good?' },
              text: { type: 'plain_text', text: clip(`Everyone in "${sequence.name}" leaves it now.`, 300) },
              confirm: { type: 'plain_text', text: 'Archive' },
              deny: { type: 'plain_text', text: 'Keep it' },
              style: 'danger',
            },
          },
        ],
      },
    ],
  };
}

export const archivedText = (name: string, ended: number) =>
  `:file_cabinet: Archived ${sequenceName(name)}. ${ended === 0 ? 'Nobody was in it.' : `${plural(ended, 'run')} ended: nobody gets another step from it.`}`;

export const activationRefusedText = (name: string, refusals: readonly string[]) =>
  `:x: I can't activate ${sequenceName(name)} yet:\n${refusals.map((refusal) => `• ${refusal}`).join('\n')}`;

export const activatedText = (name: string, enrolled: number | undefined, trigger: Trigger) => {
  const who =
    trigger.kind === 'segment'
      ? enrolled === undefined || enrolled === 0
        ? 'New members of its segment are enrolled as they join.'
        : `Enrolled ${plural(enrolled, 'lead')} who are in its segment today; new members are enrolled as they join.`
      : trigger.kind === 'event'
        ? `Leads are enrolled when \`${trigger.name}\` arrives.`
        : 'Enroll leads with `/nurture sequence enroll`.';
  return `:white_check_mark: ${sequenceName(name)} is active. ${who}`;
};

/** What `activate` asks before it activates: the warnings to accept, and for a segment trigger who to enroll. */
export function activationQuestion(sequence: { id: number; name: string }, ask: { warnings: readonly string[]; segment?: { name: string; members: number | undefined } }): SlackMessage {
  const lines: string[] = [];
  if (ask.warnings.length > 0) lines.push(`:warning: Before ${sequenceName(sequence.name)} goes live, check:`, ...ask.warnings.map((warning) => `• ${warning}`));
  if (ask.segment) {
    const members = ask.segment.members === undefined ? 'its members today' : `its ${plural(ask.segment.members, 'member')} today`;
    lines.push(`It enrolls leads as they enter ${sequenceName(ask.segment.name)}. Enroll ${members} too, or only those who join from now on?`);
  } else {
    lines.push('Activate it anyway?');
  }
  const button = (text: string, actionId: string, style?: 'primary'): Button => ({
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text },
    value: String(sequence.id),
    ...(style ? { style } : {}),
  });
  const buttons = ask.segment
    ? [button('Activate, enroll today’s members', ActionIds.sequenceActivateEnrollMembers, 'primary'), button('Activate, new members only', ActionIds.sequenceActivate)]
    : [button('Activate anyway', ActionIds.sequenceActivate, 'primary')];
  return {
    text: `Activate the sequence ${sequence.name}?`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), SECTION_MAX_CHARS) } },
      { type: 'actions', elements: buttons },
    ],
  };
}

// ---- the lead card --------------------------------------------------------------------------------------

const EXIT_WORDS: Record<ExitReason, string> = {
  unsubscribed: 'unsubscribed',
  bounced: 'bounced',
  complained: 'complained',
  goal: 'reached the goal',
  customer: 'became a customer',
  removed: 'removed by hand',
  archived: 'the sequence was archived',
  erased: 'erased',
};

/** "Tue 09:00" within the coming week, "Tue 18 Nov 09:00" after it, on the given zone's clock. */
export function nextSendText(dueAt: Date, now: Date, timeZone: string): string {
  if (dueAt.getTime() <= now.getTime()) return 'due now';
  const withinWeek = dueAt.getTime() - now.getTime() < 6 * 86_400_000;
  const part = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(dueAt)
      .map((p) => [p.type, p.value]),
  );
  return withinWeek ? `${part.weekday} ${part.hour}:${part.minute}` : `${part.weekday} ${part.day} ${part.month} ${part.hour}:${part.minute}`;
}

/** "Whitepaper follow-up · step 2 of 4 · next Tue 09:00" / "· completed" / "· exited: unsubscribed". */
export function leadRunLine(run: LeadRun, now: Date, timeZone: string): string {
  const name = escapeMrkdwn(run.sequenceName);
  if (run.status === 'completed') return `${name} · completed`;
  if (run.status === 'exited') return `${name} · exited: ${EXIT_WORDS[run.exitReason as ExitReason] ?? escapeMrkdwn(run.exitReason ?? 'ended')}`;
  const where = run.stepPosition === null ? `${plural(run.stepCount, 'step')}, all sent` : `step ${run.stepPosition} of ${run.stepCount}`;
  const next = run.sequenceStatus === 'paused' ? 'paused' : run.dueAt ? `next ${nextSendText(run.dueAt, now, timeZone)}` : undefined;
  return [name, where, next].filter(Boolean).join(' · ');
}
