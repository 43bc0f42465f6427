import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The only reader of process.env. Every setting is validated here once, at boot; the rest of the code
 * receives a frozen Config and never looks at the environment (tests build Config objects directly).
 */

const SLACK_APP_HOWTO =
  'create the Slack app from manifest.yml (https://api.slack.com/apps → Create New App → From a manifest), install it to your workspace';

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const ROLES = ['all', 'web', 'worker'] as const;

const EnvSchema = z
  .object({
    DATABASE_URL: optionalText.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, {
          message: 'DATABASE_URL must look like postgres://user:password@host:5432/database (or leave it unset to use the embedded Postgres)',
        })
        .optional(),
    ),
    DATA_DIR: optionalText.default('./.data'),
    PORT: optionalText
      .pipe(
        z
          .string()
          .regex(/^\d{1,5}$/, 'PORT must be a number between 0 and 65535')
          .transform(Number)
          .refine((port) => port <= 65535, 'PORT must be a number between 0 and 65535')
          .optional(),
      )
      .transform((port) => port ?? 3000),
    PUBLIC_URL: optionalText.pipe(
      z
        .url({
          protocol: /^https?$/,
          message: 'PUBLIC_URL must be the http(s) address people reach this server at, e.g. https://nurture.example.com',
        })
        .optional(),
    ),
    SLACK_BOT_TOKEN: optionalText.pipe(
      z
        .string({
          message: `SLACK_BOT_TOKEN is missing: ${SLACK_APP_HOWTO}, then copy the "Bot User OAuth Token" (xoxb-…) from OAuth & Permissions`,
        })
        .startsWith('xoxb-', 'SLACK_BOT_TOKEN must be a bot token starting with xoxb- (OAuth & Permissions → Bot User OAuth Token)'),
    ),
    SLACK_SIGNING_SECRET: optionalText,
    SLACK_APP_TOKEN: optionalText.pipe(
      z
        .string()
        .startsWith('xapp-', 'SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information → App-Level Tokens, scope connections:write)')
        .optional(),
    ),
    SLACK_API_URL: optionalText.pipe(
      z.url({ message: 'SLACK_API_URL must be a URL such as https://slack.com/api/' }).optional(),
    ),
    // Optional: without it, emails are recorded in the outbox_emails table instead of being sent.
    RESEND_API_KEY: optionalText.pipe(
      z.string().startsWith('re_', 'RESEND_API_KEY must start with re_ (https://resend.com/api-keys)').optional(),
    ),
    RESEND_WEBHOOK_SECRET: optionalText.pipe(
      z
        .string()
        .startsWith('whsec_', 'RESEND_WEBHOOK_SECRET must start with whsec_ (Resend → Webhooks → your endpoint → Signing secret)')
        .optional(),
    ),
    // Resend's default is 5 requests/s per team, shared by every key and every Nurture process.
    RESEND_REQUESTS_PER_SECOND: optionalText
      .pipe(
        z
          .string()
          .regex(/^\d+(\.\d+)?$/, 'RESEND_REQUESTS_PER_SECOND must be a number of requests per second, e.g. 5')
          .transform(Number)
          .refine((rate) => rate >= 0.1 && rate <= 1000, 'RESEND_REQUESTS_PER_SECOND must be between 0.1 and 1000')
          .optional(),
      )
      .transform((rate) => rate ?? 5),
    EMAIL_FROM: optionalText.pipe(
      z
        .string({ message: 'EMAIL_FROM is missing: set the sender, e.g. "Acme Marketing <news@mail.acme.com>", on a domain verified in Resend' })
        .regex(/^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/, {
          message: 'EMAIL_FROM must be an address or "Name <address>", e.g. "Acme Marketing <news@mail.acme.com>"',
        }),
    ),
    TRACKING_SECRET: optionalText.pipe(
      z
        .string({ message: 'TRACKING_SECRET is missing: generate one with `openssl rand -hex 32`' })
        .min(32, 'TRACKING_SECRET must be at least 32 characters: generate one with `openssl rand -hex 32`'),
    ),
    NURTURE_ROLE: optionalText.pipe(
      z.enum(ROLES, { message: 'NURTURE_ROLE must be one of all, web, worker' }).default('all'),
    ),
    LOG_LEVEL: optionalText.pipe(
      z.enum(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    ),
  });

export type Role = (typeof ROLES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly role: Role;
  readonly port: number;
  readonly publicUrl: string;
  readonly logLevel: LogLevel;
  readonly database: { readonly url?: string; readonly dataDir: string };
  readonly slack: {
    readonly botToken: string;
    readonly signingSecret?: string;
    /** Set: Socket Mode. Unset: HTTP mode at POST /slack/events. */
    readonly appToken?: string;
    readonly apiUrl?: string;
  };
  /** apiKey unset: emails go to the outbox_emails table, not to people. */
  readonly resend: {
    readonly apiKey?: string;
    readonly webhookSecret?: string;
    readonly from: string;
    /** Batch calls per second across every process (each carries up to 100 emails). */
    readonly requestsPerSecond: number;
  };
  readonly trackingSecret: string;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(
      [
        `Nurture cannot start: ${problems.length} setting${problems.length === 1 ? ' needs' : 's need'} attention.`,
        ...problems.map((problem) => `  - ${problem}`),
        'Settings come from the environment or a .env file in the working directory; README.md → Settings lists them all.',
      ].join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Validates an environment (process.env by default) and returns the typed config, or throws ConfigError listing every problem. */
export function parseConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const result = EnvSchema.safeParse(env);
  const problems = result.success ? [] : result.error.issues.map((issue) => formatIssue(issue));
  // HTTP mode needs the signing secret to verify Slack's requests; Socket Mode does not use it.
  // Checked here rather than in the schema so it is reported together with every other problem.
  if (!env.SLACK_APP_TOKEN?.trim() && !env.SLACK_SIGNING_SECRET?.trim()) {
    problems.push(
      `SLACK_SIGNING_SECRET is missing: ${SLACK_APP_HOWTO}, then copy the Signing Secret from Basic Information → App Credentials (or set SLACK_APP_TOKEN to use Socket Mode instead)`,
    );
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const e = result.data;
  const port = e.PORT;
  return Object.freeze({
    role: e.NURTURE_ROLE,
    port,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    database: Object.freeze({ url: e.DATABASE_URL, dataDir: path.resolve(cwd, e.DATA_DIR) }),
    slack: Object.freeze({
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
    }),
    resend: Object.freeze({
      apiKey: e.RESEND_API_KEY,
      webhookSecret: e.RESEND_WEBHOOK_SECRET,
      from: e.EMAIL_FROM,
      requestsPerSecond: e.RESEND_REQUESTS_PER_SECOND,
    }),
    trackingSecret: e.TRACKING_SECRET,
  });
}

/** Reads .env (if present) into process.env without overriding what is already set, then parses. */
export function loadConfig(cwd = process.cwd()): Config {
  const envFile = path.join(cwd, '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return parseConfig(process.env, cwd);
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const name = String(issue.path[0] ?? 'environment');
  // zod's own wording for a missing value is "expected string, received undefined": name the setting instead.
  if (issue.code === 'invalid_type' && !issue.message.includes(name)) return `${name} is missing`;
  return issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
}
