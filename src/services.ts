import type { WebClient } from '@slack/web-api';
import type { Config } from './config.ts';
import type { Clock } from './lib/clock.ts';
import type { Sql } from './db/client.ts';
import type { Logger } from './lib/logger.ts';
import type { EmailSources } from './modules/delivery/email-source.ts';
import type { EmailTransport } from './modules/delivery/email-transport.ts';
import type { Enqueue } from './queue/queue-system.ts';

/**
 * What listeners, routes and job handlers are given: built once in the composition root,
 * passed down, never imported as globals (tests build their own).
 */
export interface Services {
  readonly config: Config;
  /** "Now" for scheduling and caps: the system clock, or a test's (src/lib/clock.ts). */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sql: Sql;
  /** The bot's Web API client (SLACK_BOT_TOKEN), pointed at SLACK_API_URL when set. */
  readonly slack: WebClient;
  readonly enqueue: Enqueue;
  /** Resend, or the outbox table when RESEND_API_KEY is unset. */
  readonly email: EmailTransport;
  /** What each kind of email (newsletter, sequence) tells the delivery pipeline: src/modules/delivery/email-sources.ts. */
  readonly emailSources: EmailSources;
}
