import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import type { Token } from '../../slack/command-text.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';

/**
 * Reading what people type: sequence names in command arguments (quoted, as words, or a unique
 * prefix) and an event trigger's property filters.
 */

export interface NamedSequence {
  id: number;
  name: string;
}

/** The names a person can pick from, when what they typed names none (or several). */
export function sequenceNamesText(sequences: readonly NamedSequence[]): string {
  if (sequences.length === 0) return 'There are no sequences yet: `/nurture sequence new` builds one.';
  const shown = sequences.slice(0, 30).map((sequence) => `*${escapeMrkdwn(sequence.name)}*`);
  return `Sequences: ${shown.join(', ')}${sequences.length > shown.length ? ` and ${sequences.length - shown.length} more` : ''}.`;
}

export const noSuchSequenceText = (typed: string, sequences: readonly NamedSequence[]) =>
  `There is no sequence called "${escapeMrkdwn(typed)}". ${sequenceNamesText(sequences)}`;

export const ambiguousSequenceText = (typed: string, matches: readonly NamedSequence[]) =>
  `"${escapeMrkdwn(typed)}" is the start of several sequences: ${matches.map((sequence) => `*${escapeMrkdwn(sequence.name)}*`).join(', ')}. Type more of the name, in quotes if it has spaces.`;

const joined = (tokens: readonly Token[]) => tokens.map((token) => token.value).join(' ').trim();

/** The sequence named exactly (case aside), else the only one whose name starts with the text. */
function match(typed: string, sequences: readonly NamedSequence[]): { found?: NamedSequence; several?: NamedSequence[] } {
  const lower = typed.toLowerCase();
  const exact = sequences.find((sequence) => sequence.name.toLowerCase() === lower);
  if (exact) return { found: exact };
  const prefixed = sequences.filter((sequence) => sequence.name.toLowerCase().startsWith(lower));
  if (prefixed.length === 1) return { found: prefixed[0] };
  return prefixed.length > 1 ? { several: prefixed } : {};
}

/** `show Whitepaper follow-up`, `show "Whitepaper follow-up"`, `show white`: the whole text names the sequence. */
export function pickSequence<T extends NamedSequence>(tokens: readonly Token[], sequences: readonly T[], usage: string): T {
  const typed = joined(tokens);
  if (typed === '') throw new UsageError(`Say which sequence: \`${usage}\`. ${sequenceNamesText(sequences)}`);
  const { found, several } = match(typed, sequences);
  if (found) return found as T;
  throw new UsageError(several ? ambiguousSequenceText(typed, several) : noSuchSequenceText(typed, sequences));
}

/**
 * `enroll Whitepaper follow-up yui@example.com`: a sequence, then something else (an address, a segment
 * name). The longest run of leading words that names a sequence exactly wins; else the first word (or
 * quoted name) as a unique prefix.
 */
export function pickSequenceAndRest<T extends NamedSequence>(tokens: readonly Token[], sequences: readonly T[], usage: string): { sequence: T; rest: readonly Token[] } {
  if (tokens.length < 2) throw new UsageError(`Say which sequence and who: \`${usage}\`.`);
  for (let words = tokens.length - 1; words >= 1; words -= 1) {
    const exact = sequences.find((sequence) => sequence.name.toLowerCase() === joined(tokens.slice(0, words)).toLowerCase());
    if (exact) return { sequence: exact, rest: tokens.slice(words) };
  }
  const first = tokens[0]!.value;
  const { found, several } = match(first, sequences);
  if (found) return { sequence: found as T, rest: tokens.slice(1) };
  throw new UsageError(several ? ambiguousSequenceText(first, several) : noSuchSequenceText(first, sequences));
}

const PropertyName = z.string().min(1).max(64, 'property names are at most 64 characters');
const PropertyValue = z.string().min(1).max(200, 'property values are at most 200 characters');

export type EventProperties = Record<string, string | number | boolean>;

/**
 * `asset = whitepaper-x, format = pdf` (commas or new lines between filters): the properties an event
 * must carry to enrol the lead. Numbers and true/false are compared as such, as in segment rules.
 */
export function parseEventProperties(text: string | undefined): { ok: true; properties: EventProperties } | { ok: false; message: string } {
  const properties: EventProperties = {};
  for (const part of (text ?? '').split(/[,\n]/).map((item) => item.trim()).filter(Boolean)) {
    const equals = part.indexOf('=');
    const name = PropertyName.safeParse(equals === -1 ? '' : part.slice(0, equals).trim());
    const value = PropertyValue.safeParse(equals === -1 ? '' : part.slice(equals + 1).trim());
    if (!name.success || !value.success) {
      const problem = !name.success && name.error.issues[0]!.code === 'too_big' ? name.error.issues[0]!.message : !value.success && value.error.issues[0]!.code === 'too_big' ? value.error.issues[0]!.message : undefined;
      return { ok: false, message: problem ? `${problem} ("${part.slice(0, 40)}").` : `Write each filter as name = value, e.g. asset = whitepaper-x ("${part.slice(0, 40)}" is not).` };
    }
    const raw = value.data;
    properties[name.data] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
  }
  return { ok: true, properties };
}

/** The filters as the form shows them again. */
export const eventPropertiesText = (properties: EventProperties) =>
  Object.entries(properties)
    .map(([name, value]) => `${name} = ${String(value)}`)
    .join(', ');
