import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SlackEvents } from '../src/slack/ids.ts';
import { SLACK_EVENTS_PATH } from '../src/slack/create-slack-app.ts';

const ROOT = path.join(import.meta.dirname, '..');

/** The bot scope each Web API method we call needs (https://api.slack.com/methods). Methods needing none map to null. */
const SCOPE_OF_METHOD: Record<string, string | null> = {
  'users.info': 'users:read',
  // Public channels; private ones need groups:read too (the manifest asks for both).
  'conversations.info': 'channels:read',
  'chat.postMessage': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.update': 'chat:write',
  'files.info': 'files:read',
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
  'views.open': null,
  'views.update': null,
  'views.push': null,
  'views.publish': null,
};

interface Manifest {
  display_information: { name: string; description: string; long_description: string };
  features: { slash_commands: Array<{ command: string; url: string; should_escape: boolean }>; app_home: { home_tab_enabled: boolean } };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { request_url: string; bot_events: string[] }; interactivity: { is_enabled: boolean; request_url: string } };
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('manifest.yml', async () => {
  const manifest = parse(await readFile(path.join(ROOT, 'manifest.yml'), 'utf8')) as Manifest;

  it('declares /nurture with escaped mentions, on the path Bolt listens to', () => {
    const nurture = manifest.features.slash_commands.find((command) => command.command === '/nurture');
    expect(nurture).toMatchObject({ should_escape: true });
    for (const url of [nurture!.url, manifest.settings.event_subscriptions.request_url, manifest.settings.interactivity.request_url]) {
      expect(new URL(url).pathname).toBe(SLACK_EVENTS_PATH);
    }
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });

  it('stays within the lengths Slack accepts for app details', () => {
    const info = manifest.display_information;
    expect(info.name.length).toBeLessThanOrEqual(35);
    expect(info.description.length).toBeLessThanOrEqual(140);
    expect(info.long_description.length).toBeGreaterThanOrEqual(175);
    expect(info.long_description.length).toBeLessThanOrEqual(4000);
  });

  it('subscribes to exactly the events the app listens to', () => {
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual(Object.values(SlackEvents).sort());
  });

  it('grants the scope of every Web API method the code calls', async () => {
    const called = new Set<string>();
    for (const file of await sourceFiles(path.join(ROOT, 'src'))) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/\b(?:slack|client)\.(\w+)\.(\w+)\(/g)) called.add(`${match[1]}.${match[2]}`);
      // filesUploadV2 is the SDK's wrapper around these two methods (and a POST to the URL the first returns).
      if (/\b(?:slack|client)\.filesUploadV2\(/.test(text)) called.add('files.getUploadURLExternal').add('files.completeUploadExternal');
    }
    expect(called.size).toBeGreaterThan(0);
    for (const method of called) {
      expect(SCOPE_OF_METHOD, `add ${method} and its scope to SCOPE_OF_METHOD`).toHaveProperty([method]);
      const scope = SCOPE_OF_METHOD[method];
      if (scope) expect(manifest.oauth_config.scopes.bot, `${method} needs ${scope}`).toContain(scope);
    }
    expect(manifest.oauth_config.scopes.bot).toContain('commands');
  });

  it('may read people’s email addresses, where "Send me a test" mails them', async () => {
    // users.info returns profile.email only with users:read.email; without it every test email is refused.
    const sender = await readFile(path.join(ROOT, 'src/modules/templates/send-test-email.ts'), 'utf8');
    expect(sender).toMatch(/profile\?\.email/);
    expect(manifest.oauth_config.scopes.bot).toContain('users:read.email');
  });
});
