import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, verifySlackRequest, type Logger } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { WebAPIPlatformError, WebAPIRateLimitedError, WebClient, type KnownBlock } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from './block-kit-limits.ts';
import { startFakeSlack, type FakeSlack } from './fake-slack.ts';
import { createSlackRequester, signSlackRequest, slashCommandBody, slashCommandPayload } from './slack-requests.ts';

const CHANNEL = 'C0NURTURE';
const USER = 'U0ALICE';
const SIGNING_SECRET = 'signing-secret-test';

/** Refusals are the point of several tests here: keep the SDKs from printing them. */
const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

let slack: FakeSlack;
let client: WebClient;

beforeAll(async () => {
  slack = await startFakeSlack();
  client = new WebClient(slack.botToken, { slackApiUrl: slack.url, retryConfig: { retries: 0 }, logger: quiet });
});

afterEach(() => {
  slack.reset();
});

afterAll(async () => {
  await slack.close();
});

function seedWorkspace(): void {
  slack.addChannel({ id: CHANNEL, name: 'nurture' });
  slack.addUser({ id: USER, name: 'alice', realName: 'Alice Example', email: 'alice@example.com', tz: 'Europe/Berlin' });
}

const section = (text: string, blockId?: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text }, ...(blockId ? { block_id: blockId } : {}) });
const sections = (count: number) => Array.from({ length: count }, (_, i) => section(`Block ${i + 1}`));
const modal = (blocks: KnownBlock[]) => ({ type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Nurture' }, blocks });

/** The Slack error code a WebClient call was refused with. */
async function slackError(call: Promise<unknown>): Promise<WebAPIPlatformError['data']> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(WebAPIPlatformError);
  return (error as WebAPIPlatformError).data;
}

describe('fake Slack Web API through the real WebClient', () => {
  it('records chat.postMessage with its blocks parsed from the form body', async () => {
    seedWorkspace();
    const result = await client.chat.postMessage({ channel: CHANNEL, text: 'Hello', blocks: [section('*Hello*', 'greeting')] });

    expect(result.ok).toBe(true);
    expect(result.channel).toBe(CHANNEL);
    expect(result.ts).toMatch(/^\d+\.\d{6}$/);
    const call = await slack.waitForCall('chat.postMessage');
    expect(call.token).toBe(slack.botToken);
    expect(call.args.blocks).toEqual([{ type: 'section', block_id: 'greeting', text: { type: 'mrkdwn', text: '*Hello*' } }]);
    expect(slack.messages).toEqual([expect.objectContaining({ channel: CHANNEL, ts: result.ts, text: 'Hello' })]);
  });

  it('answers auth.test and users.info like Slack', async () => {
    seedWorkspace();
    const auth = await client.auth.test();
    expect(auth).toMatchObject({ ok: true, team_id: slack.teamId, user_id: slack.botUserId, bot_id: slack.botId });

    const { user } = await client.users.info({ user: USER });
    expect(user).toMatchObject({ id: USER, real_name: 'Alice Example', tz: 'Europe/Berlin', profile: { email: 'alice@example.com' } });
    expect([3600, 7200]).toContain(user?.tz_offset);
    expect((await slackError(client.users.info({ user: 'U0NOBODY' }))).error).toBe('user_not_found');
  });

  it('opens a modal and publishes a Home tab, recording the parsed views', async () => {
    seedWorkspace();
    const opened = await client.views.open({ trigger_id: slack.newTriggerId(), view: modal([section('In a modal')]) });
    expect(opened.view).toMatchObject({ type: 'modal', id: expect.stringMatching(/^V/), hash: expect.any(String) });

    const published = await client.views.publish({ user_id: USER, view: { type: 'home', blocks: [section('Home')] } });
    expect(published.view?.type).toBe('home');

    expect((await slack.waitForCall('views.open')).args.view).toMatchObject({ type: 'modal', blocks: [{ type: 'section' }] });
    expect((await slack.waitForCall('views.publish')).args).toMatchObject({ user_id: USER, view: { type: 'home' } });
  });

  it('refuses a message of 51 blocks with invalid_blocks, as Slack does', async () => {
    seedWorkspace();
    await client.chat.postMessage({ channel: CHANNEL, text: 'fifty', blocks: sections(LIMITS.messageBlocks) });

    const data = await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'too many', blocks: sections(51) }));
    expect(data.error).toBe('invalid_blocks');
    expect(data.response_metadata?.messages).toContain('[ERROR] no more than 50 items allowed [json-pointer:/blocks]');
    expect(slack.rejections).toEqual([expect.objectContaining({ source: 'chat.postMessage', error: 'invalid_blocks' })]);
  });

  it('refuses a view of 101 blocks (Slack answers invalid_arguments for views)', async () => {
    seedWorkspace();
    await client.views.publish({ user_id: USER, view: { type: 'home', blocks: sections(LIMITS.viewBlocks) } });

    const data = await slackError(client.views.open({ trigger_id: slack.newTriggerId(), view: modal(sections(101)) }));
    expect(data.error).toBe('invalid_arguments');
    expect(data.response_metadata?.messages).toContain('[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]');
  });

  it('refuses long modal titles, private_metadata over 3,000 and views over 250 kB', async () => {
    const open = (view: ReturnType<typeof modal> & Record<string, unknown>) => slackError(client.views.open({ trigger_id: slack.newTriggerId(), view }));

    const title = await open({ ...modal([section('x')]), title: { type: 'plain_text', text: 't'.repeat(25) } });
    expect(title.response_metadata?.messages).toContain('[ERROR] must be less than 25 characters [json-pointer:/view/title/text]');
    const metadata = await open({ ...modal([section('x')]), private_metadata: 'm'.repeat(3_001) });
    expect(metadata.error).toBe('invalid_arguments');
    const huge = await open(modal(Array.from({ length: 90 }, () => section('x'.repeat(2_900)))));
    expect(huge.error).toBe('view_too_large');
  });

  it('refuses a section text of 3,001 characters and a header of 151', async () => {
    seedWorkspace();
    await client.chat.postMessage({ channel: CHANNEL, text: 'ok', blocks: [section('x'.repeat(3_000))] });

    const longSection = await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'no', blocks: [section('x'.repeat(3_001))] }));
    expect(longSection.error).toBe('invalid_blocks');
    expect(longSection.response_metadata?.messages).toEqual(['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);

    const header: KnownBlock = { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } };
    const longHeader = await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'no', blocks: [header] }));
    expect(longHeader.error).toBe('invalid_blocks');
    expect(longHeader.response_metadata?.messages).toEqual(['[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]']);
  });

  it('holds other Block Kit rules: option values up to 150, no input blocks in messages, unique block_ids', async () => {
    seedWorkspace();
    const select = (value: string): KnownBlock => ({
      type: 'actions',
      elements: [{ type: 'static_select', action_id: 'pick', options: [{ text: { type: 'plain_text', text: 'One' }, value }] }],
    });
    await client.chat.postMessage({ channel: CHANNEL, text: 'ok', blocks: [select('v'.repeat(LIMITS.optionValue))] });
    const longValue = await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'no', blocks: [select('v'.repeat(151))] }));
    expect(longValue.response_metadata?.messages).toEqual(['[ERROR] must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]']);

    const input: KnownBlock = { type: 'input', label: { type: 'plain_text', text: 'Email' }, element: { type: 'email_text_input', action_id: 'email' } };
    expect((await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'no', blocks: [input] }))).error).toBe('invalid_blocks');

    const duplicate = await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'no', blocks: [section('a', 'same'), section('b', 'same')] }));
    expect(duplicate.response_metadata?.messages).toEqual(["[ERROR] duplicate block_id 'same' [json-pointer:/blocks/1/block_id]"]);

    const unknown = await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'no', blocks: [{ type: 'sectoin' } as unknown as KnownBlock] }));
    expect(unknown.error).toBe('invalid_blocks');
  });

  it('answers msg_too_long, no_text and channel_not_found', async () => {
    seedWorkspace();
    expect((await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'x'.repeat(40_001) }))).error).toBe('msg_too_long');
    expect((await slackError(client.chat.postMessage({ channel: CHANNEL, text: '' }))).error).toBe('no_text');
    expect((await slackError(client.chat.postMessage({ channel: 'C0MISSING', text: 'hi' }))).error).toBe('channel_not_found');
  });

  it('refuses unknown methods and bad tokens', async () => {
    expect((await slackError(client.apiCall('chat.postMessageTwice', { channel: CHANNEL }))).error).toBe('unknown_method');

    const wrongToken = new WebClient('xoxb-wrong', { slackApiUrl: slack.url, retryConfig: { retries: 0 }, logger: quiet });
    expect((await slackError(wrongToken.auth.test())).error).toBe('invalid_auth');
    const noToken = new WebClient(undefined, { slackApiUrl: slack.url, retryConfig: { retries: 0 }, logger: quiet });
    expect((await slackError(noToken.auth.test())).error).toBe('not_authed');
  });

  it('lets a trigger_id open one view only, and refuses unknown ones', async () => {
    const triggerId = slack.newTriggerId();
    await client.views.open({ trigger_id: triggerId, view: modal([section('first')]) });

    expect((await slackError(client.views.open({ trigger_id: triggerId, view: modal([section('again')]) }))).error).toBe('exchanged_trigger_id');
    expect((await slackError(client.views.open({ trigger_id: '123.456.nope', view: modal([section('x')]) }))).error).toBe('invalid_trigger_id');
  });

  it('refuses views.update with a stale hash', async () => {
    const { view } = await client.views.open({ trigger_id: slack.newTriggerId(), view: modal([section('v1')]) });
    const updated = await client.views.update({ view_id: view!.id!, hash: view!.hash!, view: modal([section('v2')]) });

    const stale = await slackError(client.views.update({ view_id: view!.id!, hash: view!.hash!, view: modal([section('v3')]) }));
    expect(stale.error).toBe('hash_conflict');
    expect(updated.view?.hash).not.toBe(view!.hash);
  });

  it('surfaces an injected 429 as a rate-limit error', async () => {
    seedWorkspace();
    slack.failNext('chat.postMessage', 'ratelimited', { status: 429, retryAfter: 7 });
    const impatient = new WebClient(slack.botToken, { slackApiUrl: slack.url, rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, logger: quiet });

    const error = await impatient.chat.postMessage({ channel: CHANNEL, text: 'hi' }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect((error as WebAPIRateLimitedError).retryAfter).toBe(7);
    // Only the next call fails.
    await expect(impatient.chat.postMessage({ channel: CHANNEL, text: 'hi' })).resolves.toMatchObject({ ok: true });
  });

  it('explains a wait that timed out with the calls that did arrive', async () => {
    seedWorkspace();
    await slackError(client.chat.postMessage({ channel: CHANNEL, text: 'no', blocks: sections(51) }));

    await expect(slack.waitForCall('chat.postMessage', undefined, { timeoutMs: 50 })).rejects.toThrow(
      /an accepted chat\.postMessage call[\s\S]*chat\.postMessage → invalid_blocks \[ERROR\] no more than 50 items allowed/,
    );
  });
});

describe('fake Slack files and view submissions', () => {
  it('describes an uploaded file with files.info and serves its bytes only with the bot token', async () => {
    const content = Buffer.from('email,姓\nyamada@example.jp,山田\n');
    const added = slack.addFile({ name: 'leads.csv', content });
    const { file } = await client.files.info({ file: added.id });
    expect(file).toMatchObject({ id: added.id, name: 'leads.csv', filetype: 'csv', mimetype: 'text/csv', size: content.length });

    const url = file!.url_private_download!;
    const withToken = await fetch(url, { headers: { authorization: `Bearer ${slack.botToken}` } });
    expect(withToken.headers.get('content-type')).toBe('text/csv');
    expect(Buffer.from(await withToken.arrayBuffer())).toEqual(content);
    // Like Slack: no token is not an error status but the sign-in page.
    const without = await fetch(url);
    expect(without.status).toBe(200);
    expect(without.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await without.text()).toContain('Sign in');
    expect(slack.downloads.map((download) => download.authorized)).toEqual([true, false]);

    expect((await slackError(client.files.info({ file: 'F0MISSING' }))).error).toBe('file_not_found');
  });

  it('builds the view_submission of an opened modal with Slack’s state shapes, and refuses what Slack’s client would', async () => {
    seedWorkspace();
    const triggerId = slack.newTriggerId();
    const view = {
      ...modal([
        { type: 'input', block_id: 'upload', label: { type: 'plain_text', text: 'File' }, element: { type: 'file_input', action_id: 'file', filetypes: ['csv'], max_files: 1 } },
        { type: 'input', block_id: 'note', optional: true, label: { type: 'plain_text', text: 'Note' }, element: { type: 'plain_text_input', action_id: 'text' } },
        {
          type: 'input',
          block_id: 'ok',
          label: { type: 'plain_text', text: 'OK' },
          element: { type: 'checkboxes', action_id: 'boxes', options: [{ text: { type: 'plain_text', text: 'Yes' }, value: 'yes' }] },
        },
      ] as KnownBlock[]),
      submit: { type: 'plain_text' as const, text: 'Go' },
      callback_id: 'upload_modal',
    };
    const opened = await client.views.open({ trigger_id: triggerId, view });
    const csv = slack.addFile({ name: 'a.csv', content: 'email\n' });
    const payload = slack.viewSubmission({ viewId: opened.view!.id!, userId: USER, values: { upload: [csv.id], ok: ['yes'] } });
    expect(payload).toMatchObject({ type: 'view_submission', user: { id: USER }, view: { id: opened.view!.id, callback_id: 'upload_modal' } });
    expect((payload.view as { state: unknown }).state).toEqual({
      values: {
        upload: { file: { type: 'file_input', files: [expect.objectContaining({ id: csv.id, name: 'a.csv', url_private_download: csv.url_private_download })] } },
        note: { text: { type: 'plain_text_input', value: null } },
        ok: { boxes: { type: 'checkboxes', selected_options: [{ text: { type: 'plain_text', text: 'Yes' }, value: 'yes' }] } },
      },
    });
    expect(() => slack.viewSubmission({ viewId: opened.view!.id!, userId: USER, values: { upload: [csv.id] } })).toThrow('required input "ok" is empty');
    const pdf = slack.addFile({ name: 'a.pdf', content: '%PDF' });
    expect(() => slack.viewSubmission({ viewId: opened.view!.id!, userId: USER, values: { upload: [pdf.id], ok: ['yes'] } })).toThrow('only csv');
  });

  it('submits what an untouched input shows (its initial value or options), as Slack does; null clears it', async () => {
    seedWorkspace();
    const yes = { text: { type: 'plain_text', text: 'Yes' }, value: 'yes' };
    const view = {
      ...modal([
        { type: 'input', block_id: 'name', label: { type: 'plain_text', text: 'Name' }, element: { type: 'plain_text_input', action_id: 'text', initial_value: 'Mfg VPs' } },
        { type: 'input', block_id: 'ok', optional: true, label: { type: 'plain_text', text: 'OK' }, element: { type: 'checkboxes', action_id: 'boxes', options: [yes], initial_options: [yes] } },
      ] as KnownBlock[]),
      submit: { type: 'plain_text' as const, text: 'Save' },
      callback_id: 'edit_modal',
    };
    const opened = await client.views.open({ trigger_id: slack.newTriggerId(), view });
    const untouched = slack.viewSubmission({ viewId: opened.view!.id!, userId: USER });
    expect((untouched.view as { state: unknown }).state).toEqual({
      values: { name: { text: { type: 'plain_text_input', value: 'Mfg VPs' } }, ok: { boxes: { type: 'checkboxes', selected_options: [yes] } } },
    });
    const cleared = slack.viewSubmission({ viewId: opened.view!.id!, userId: USER, values: { ok: null } });
    expect((cleared.view as { state: { values: { ok: unknown } } }).state.values.ok).toEqual({ boxes: { type: 'checkboxes', selected_options: [] } });
    expect(() => slack.viewSubmission({ viewId: opened.view!.id!, userId: USER, values: { name: null } })).toThrow('required input "name" is empty');
  });
});

describe('fake Slack file uploads (filesUploadV2)', () => {
  it('takes the three steps of filesUploadV2, records the bytes and shares the file in a DM', async () => {
    seedWorkspace();
    const dm = await client.chat.postMessage({ channel: USER, text: 'Here it comes' });
    const content = Buffer.from('\uFEFFemail,名\r\nyamada@example.jp,太郎\r\n');
    await client.filesUploadV2({ channel_id: dm.channel!, file: content, filename: 'leads.csv', title: 'Leads' });
    expect(slack.calls.map((call) => call.method)).toEqual(['chat.postMessage', 'files.getUploadURLExternal', 'files.completeUploadExternal']);
    expect(slack.uploads).toEqual([
      expect.objectContaining({ filename: 'leads.csv', length: content.length, content, completed: true, title: 'Leads', channelId: dm.channel }),
    ]);
    const { file } = await client.files.info({ file: slack.uploads[0]!.fileId });
    expect(file).toMatchObject({ name: 'leads.csv', size: content.length });
  });

  it('refuses what Slack refuses: no filename or length, a user id as channel, bytes that never arrived or do not match', async () => {
    seedWorkspace();
    const missing = await slackError(client.files.getUploadURLExternal({ length: 3 } as never));
    expect(missing).toMatchObject({ error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] missing required field: filename'] } });
    expect((await slackError(client.files.getUploadURLExternal({ filename: 'a.csv' } as never))).error).toBe('invalid_arguments');

    const { upload_url: uploadUrl, file_id: fileId } = await client.files.getUploadURLExternal({ filename: 'a.csv', length: 3 });
    expect((await slackError(client.files.completeUploadExternal({ files: [{ id: fileId! }] }))).error).toBe('file_not_found');
    const mismatch = await fetch(uploadUrl!, { method: 'POST', body: 'four' });
    expect(mismatch.status).toBe(400);
    const ok = await fetch(uploadUrl!, { method: 'POST', body: 'abc' });
    expect([ok.status, await ok.text()]).toEqual([200, 'OK - 3']);
    const toUser = await slackError(client.files.completeUploadExternal({ files: [{ id: fileId! }], channel_id: USER }));
    expect(toUser.error).toBe('invalid_arguments');
    expect(toUser.response_metadata?.messages?.[0]).toContain('input must match regex pattern');
  });

  it('builds block_actions and block_suggestion payloads of an open modal', async () => {
    seedWorkspace();
    const opened = await client.views.open({
      trigger_id: slack.newTriggerId(),
      view: {
        ...modal([
          { type: 'actions', block_id: 'pick', elements: [{ type: 'static_select', action_id: 'color', options: [{ text: { type: 'plain_text', text: 'Red' }, value: 'red' }] }] },
          { type: 'input', block_id: 'who', optional: true, label: { type: 'plain_text', text: 'Who' }, element: { type: 'external_select', action_id: 'who_options' } },
        ] as KnownBlock[]),
        submit: { type: 'plain_text' as const, text: 'Go' },
      },
    });
    const viewId = opened.view!.id!;
    const action = slack.viewAction({ viewId, userId: USER, actionId: 'color', value: 'red', values: { who: 'Ann' } });
    expect(action).toMatchObject({
      type: 'block_actions',
      container: { type: 'view', view_id: viewId },
      view: { id: viewId, hash: opened.view!.hash, state: { values: { who: { who_options: { type: 'external_select', selected_option: { value: 'Ann' } } } } } },
      actions: [{ type: 'static_select', action_id: 'color', block_id: 'pick', selected_option: { value: 'red' } }],
    });
    expect(() => slack.viewAction({ viewId, userId: USER, actionId: 'color', value: 'blue' })).toThrow('"blue" is not an option');
    expect(slack.blockSuggestion({ viewId, userId: USER, actionId: 'who_options', value: 'An' })).toMatchObject({
      type: 'block_suggestion',
      action_id: 'who_options',
      block_id: 'who',
      value: 'An',
      view: { id: viewId },
    });
  });
});

describe('fake Slack response URLs', () => {
  it('records accepted posts and answers 400 invalid_blocks over 50 blocks', async () => {
    const url = slack.responseUrl();
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const tooMany = await post({ response_type: 'ephemeral', text: 'too many', blocks: sections(51) });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.text()).toBe('invalid_blocks');

    expect((await post({ response_type: 'ephemeral', text: 'Done' })).status).toBe(200);
    const response = await slack.waitForResponse((r) => r.body.text === 'Done');
    expect(response.url).toBe(url);
  });
});

describe('fake Slack Socket Mode', () => {
  it('connects a real SocketModeClient and delivers its ack to socket.send', async () => {
    const socketClient = new SocketModeClient({
      appToken: slack.appToken,
      clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } },
      logger: quiet,
    });
    socketClient.on('slash_commands', async ({ ack, body }: { ack: (payload?: object) => Promise<void>; body: { text: string } }) => {
      await ack(body.text === 'flood' ? { text: 'many', blocks: sections(51) } : { text: `You said ${body.text}` });
    });
    try {
      await socketClient.start();
      await slack.socket.waitForConnection();
      expect(slack.callsTo('apps.connections.open')[0]?.token).toBe(slack.appToken);

      const payload = slashCommandPayload({ teamId: slack.teamId, userId: USER, channelId: CHANNEL, text: 'hi', responseUrl: slack.responseUrl(), triggerId: slack.newTriggerId() });
      const ack = await slack.socket.send('slash_commands', payload);
      expect(ack.payload).toEqual({ text: 'You said hi' });

      // An ack body Slack would refuse fails the send.
      await expect(slack.socket.send('slash_commands', { ...payload, text: 'flood' })).rejects.toThrow(/invalid_blocks[\s\S]*no more than 50 items allowed/);
    } finally {
      await socketClient.disconnect();
    }
  });

  it('runs a Bolt app in Socket Mode with the fake as its Slack', async () => {
    seedWorkspace();
    const app = new App({
      token: slack.botToken,
      appToken: slack.appToken,
      socketMode: true,
      clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } },
      logger: quiet,
    });
    app.command('/nurture', async ({ ack, command, respond }) => {
      await ack();
      await respond({ text: `Got ${command.text}` });
    });
    await app.start();
    try {
      const payload = slashCommandPayload({ teamId: slack.teamId, userId: USER, channelId: CHANNEL, text: 'status', responseUrl: slack.responseUrl(), triggerId: slack.newTriggerId() });
      const ack = await slack.socket.send('slash_commands', payload);
      expect(ack.envelope_id).toEqual(expect.any(String));
      await slack.waitForResponse((response) => response.body.text === 'Got status');
    } finally {
      await app.stop();
    }
  });

  it('refuses apps.connections.open with a bot token', async () => {
    expect((await slackError(client.apps.connections.open())).error).toBe('not_allowed_token_type');
  });
});

describe('signed Slack requests', () => {
  it('produces signatures that Bolt verifies, and Bolt refuses a wrong secret or a stale timestamp', () => {
    const body = slashCommandBody({ teamId: 'T0TEST', userId: USER, channelId: CHANNEL, text: 'help', responseUrl: 'https://hooks.slack.test/1', triggerId: '1.2.3' });
    const verify = (headers: ReturnType<typeof signSlackRequest>) =>
      verifySlackRequest({
        signingSecret: SIGNING_SECRET,
        body,
        headers: { 'x-slack-signature': headers['x-slack-signature'], 'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']) },
      });

    expect(() => verify(signSlackRequest(SIGNING_SECRET, body))).not.toThrow();
    expect(() => verify(signSlackRequest('not-the-secret', body))).toThrow(/signature mismatch/);
    expect(() => verify(signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 6 * 60))).toThrow(/stale/);
  });
});

describe('a real Bolt app against the fake', () => {
  let server: Server;
  let app: App;

  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('takes a signed slash command over HTTP, responds through the response_url and opens a modal', async () => {
    seedWorkspace();
    const receiver = new HTTPReceiver({ signingSecret: SIGNING_SECRET, logger: quiet });
    app = new App({ token: slack.botToken, receiver, clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } }, logger: quiet, deferInitialization: true });
    app.command('/nurture', async ({ ack, respond, client: boltClient, body }) => {
      if (body.text === 'flood') return ack({ text: 'many', blocks: sections(51) });
      await ack();
      await boltClient.views.open({ trigger_id: body.trigger_id, view: modal([section('Hello from Bolt')]) });
      await respond({ response_type: 'ephemeral', text: 'Opened' });
    });
    await app.init();
    server = createServer(receiver.requestListener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const requester = createSlackRequester({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, signingSecret: SIGNING_SECRET });
    const fields = { teamId: slack.teamId, userId: USER, channelId: CHANNEL, text: '', responseUrl: slack.responseUrl(), triggerId: slack.newTriggerId() };

    expect((await requester.command(fields)).status).toBe(200);
    await slack.waitForCall('views.open', (call) => call.args.trigger_id === fields.triggerId);
    await slack.waitForResponse((response) => response.body.text === 'Opened');

    // Slack would refuse an ack body of 51 blocks: the requester fails the test.
    await expect(requester.command({ ...fields, text: 'flood' })).rejects.toThrow(/Slack would refuse this ack body: invalid_blocks/);

    expect((await requester.command(fields, { secret: 'wrong-secret' })).status).toBe(401);
    expect((await requester.command(fields, { timestampSeconds: Math.floor(Date.now() / 1000) - 10 * 60 })).status).toBe(401);
  });
});
