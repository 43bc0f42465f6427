import { parseConfig, type Config } from '../../src/config.ts';

export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const TEST_BOT_TOKEN = 'xoxb-test';
export const TEST_APP_TOKEN = 'xapp-test';

/** A valid configuration for tests: built from a literal environment, never from process.env. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return parseConfig(
    {
      PORT: '0',
      SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      RESEND_API_KEY: 're_test_key',
      EMAIL_FROM: 'Nurture Test <news@test.example>',
      TRACKING_SECRET: 'tracking-secret-for-tests-only-0123456789',
      PUBLIC_URL: 'https://nurture.test',
      LOG_LEVEL: 'silent',
      ...env,
    },
    '/nonexistent',
  );
}
