import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.ts';

const VALID = {
  SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
  SLACK_SIGNING_SECRET: 'signing-secret',
  RESEND_API_KEY: 're_123',
  EMAIL_FROM: 'Acme Marketing <news@mail.acme.com>',
  TRACKING_SECRET: 'x'.repeat(64),
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env, '/srv/nurture');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}

describe('configuration', () => {
  it('fills in defaults for a minimal valid environment', () => {
    const config = parseConfig(VALID, '/srv/nurture');
    expect(config).toMatchObject({
      role: 'all',
      port: 3000,
      publicUrl: 'http://localhost:3000',
      logLevel: 'info',
      database: { url: undefined, dataDir: '/srv/nurture/.data' },
      slack: { botToken: 'xoxb-1-2-abc', signingSecret: 'signing-secret', appToken: undefined },
      resend: { apiKey: 're_123', from: 'Acme Marketing <news@mail.acme.com>' },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every problem at once, each saying what to do', () => {
    const problems = problemsOf({});
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/SLACK_BOT_TOKEN is missing: create the Slack app from manifest\.yml/);
    expect(problems.join('\n')).toMatch(/SLACK_SIGNING_SECRET is missing: .*Basic Information → App Credentials/);
    expect(problems.join('\n')).toMatch(/EMAIL_FROM is missing/);
    expect(problems.join('\n')).toMatch(/TRACKING_SECRET is missing: generate one with `openssl rand -hex 32`/);
  });

  it('explains malformed values', () => {
    const problems = problemsOf({
      ...VALID,
      SLACK_BOT_TOKEN: 'xoxp-user-token',
      PORT: '70000',
      DATABASE_URL: 'mysql://x',
      PUBLIC_URL: 'not a url',
      TRACKING_SECRET: 'short',
      NURTURE_ROLE: 'cron',
      LOG_LEVEL: 'loud',
      EMAIL_FROM: 'nobody',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SLACK_BOT_TOKEN must be a bot token starting with xoxb-/),
        expect.stringMatching(/^PORT must be a number between 0 and 65535/),
        expect.stringMatching(/^DATABASE_URL must look like postgres:\/\//),
        expect.stringMatching(/^PUBLIC_URL must be the http\(s\) address/),
        expect.stringMatching(/^TRACKING_SECRET must be at least 32 characters/),
        expect.stringMatching(/^NURTURE_ROLE must be one of all, web, worker/),
        expect.stringMatching(/^LOG_LEVEL must be one of/),
        expect.stringMatching(/^EMAIL_FROM must be an address/),
      ]),
    );
    expect(problems).toHaveLength(8);
  });

  it('needs no signing secret in Socket Mode, and the message for both missing names the alternative', () => {
    const { SLACK_SIGNING_SECRET: _omitted, ...withoutSecret } = VALID;
    expect(parseConfig({ ...withoutSecret, SLACK_APP_TOKEN: 'xapp-1-abc' }).slack.appToken).toBe('xapp-1-abc');
    expect(problemsOf(withoutSecret)).toEqual([expect.stringMatching(/or set SLACK_APP_TOKEN to use Socket Mode instead/)]);
    expect(problemsOf({ ...VALID, SLACK_APP_TOKEN: 'xoxb-wrong-kind' })).toEqual([expect.stringMatching(/^SLACK_APP_TOKEN must be an app-level token/)]);
  });

  it('needs no Resend API key (emails then go to the outbox table), but checks one that is set', () => {
    expect(parseConfig({ ...VALID, RESEND_API_KEY: undefined }).resend.apiKey).toBeUndefined();
    expect(parseConfig({ ...VALID, RESEND_API_KEY: '  ' }).resend.apiKey).toBeUndefined();
    expect(problemsOf({ ...VALID, RESEND_API_KEY: 'sk_live_123' })).toEqual(['RESEND_API_KEY must start with re_ (https://resend.com/api-keys)']);
  });

  it('treats blank values as unset and trims a trailing slash from PUBLIC_URL', () => {
    const config = parseConfig({ ...VALID, DATABASE_URL: '  ', PORT: '', PUBLIC_URL: 'https://nurture.example.com/', NURTURE_ROLE: 'worker' });
    expect(config.database.url).toBeUndefined();
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('https://nurture.example.com');
    expect(config.role).toBe('worker');
  });

  it('the error message is one block a person can act on', () => {
    try {
      parseConfig({ ...VALID, EMAIL_FROM: undefined });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toBe(
        [
          'Nurture cannot start: 1 setting needs attention.',
          '  - EMAIL_FROM is missing: set the sender, e.g. "Acme Marketing <news@mail.acme.com>", on a domain verified in Resend',
          'Settings come from the environment or a .env file in the working directory; README.md → Settings lists them all.',
        ].join('\n'),
      );
    }
  });
});
