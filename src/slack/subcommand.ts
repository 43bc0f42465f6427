import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { UsageError } from '../lib/errors.ts';
import type { Services } from '../services.ts';
import type { Token } from './command-text.ts';

/** One `/nurture <name> …` subcommand. Listed in src/slack/subcommands.ts; help is generated from these. */
export interface Subcommand {
  readonly name: string;
  /** One line for `/nurture help`. */
  readonly summary: string;
  /** Each form with a concrete example, shown in help and in usage errors. */
  readonly usage: ReadonlyArray<{ form: string; example: string; explains?: string }>;
  /** More text for `/nurture help <name>` only (e.g. a grammar), mrkdwn, at most 3,000 characters. */
  readonly details?: string;
  run(context: CommandContext): Promise<void>;
}

export interface CommandContext {
  readonly services: Services;
  readonly teamId: string;
  readonly userId: string;
  readonly channelId: string;
  readonly triggerId: string;
  /** Tokens after the subcommand name. */
  readonly args: readonly Token[];
  readonly client: WebClient;
  /** Posts to the command's response_url; ephemeral unless told otherwise. */
  readonly respond: RespondFn;
  readonly subcommands: readonly Subcommand[];
}

/** One verb of a subcommand (`/nurture segment show …`), given the tokens after it. */
export type VerbHandler = (context: CommandContext, rest: readonly Token[]) => Promise<void>;

/**
 * Runs the verb the first argument names (none: `list`); aliases are more keys for the same handler.
 * An unknown verb answers `usage`.
 */
export async function runVerb(context: CommandContext, verbs: Readonly<Record<string, VerbHandler>>, usage: string): Promise<void> {
  const [verbToken, ...rest] = context.args;
  const verb = verbToken?.value.toLowerCase() ?? 'list';
  const handler = Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
  if (!handler) throw new UsageError(usage);
  return handler(context, rest);
}
