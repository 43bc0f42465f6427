import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkMessage, checkView, formatProblem, hasMessageContent, type SlackRefusal, type ViewType } from './block-kit-limits.ts';

/**
 * A fake Slack that speaks Slack's real HTTP and Socket Mode protocols, so the real Bolt App, WebClient
 * and SocketModeClient run against it unchanged. It refuses what Slack refuses (Block Kit limits,
 * single-use trigger ids, stale view hashes, unknown channels and users) with Slack's error codes.
 *
 *   const slack = await startFakeSlack();
 *   const client = new WebClient(slack.botToken, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
 *   …
 *   await slack.waitForCall('chat.postMessage', (call) => call.args.channel === 'C1');
 *   await slack.close();
 *
 * Files: `addFile()` stores one as if a person uploaded it; `files.info` describes it and its
 * `url_private_download` points back here, serving the bytes only with the bot token (without it,
 * Slack answers 200 with its HTML sign-in page, and so does this). `viewSubmission()` builds the
 * payload of a person submitting a modal that views.open showed, with input values such as files;
 * `viewAction()` and `blockSuggestion()` the payloads of a person clicking or choosing in a modal, and of
 * a type-ahead menu asking for its options.
 *
 * Uploads (`filesUploadV2`): files.getUploadURLExternal hands out an upload URL pointing back here, the
 * POST to it (raw bytes or multipart, as Slack takes both) is recorded in `uploads`, and
 * files.completeUploadExternal shares the file in a channel. Each step refuses what Slack refuses.
 */

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  teamId?: string;
  teamName?: string;
  teamDomain?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  /** Slack's trigger_id expires 3 s after the interaction; pass Infinity to switch expiry off. */
  triggerIdTtlMs?: number;
  /** How often the Socket Mode endpoint pings its clients, as Slack's servers do. */
  socketPingIntervalMs?: number;
}

export interface FakeSlackUser {
  id: string;
  teamId?: string;
  name?: string;
  realName?: string;
  email?: string;
  /** IANA zone, e.g. 'Europe/Berlin'; Slack's default for new accounts is America/Los_Angeles. */
  tz?: string;
  isAdmin?: boolean;
  isOwner?: boolean;
  isBot?: boolean;
  deleted?: boolean;
}

export interface FakeSlackChannel {
  id: string;
  name?: string;
  isPrivate?: boolean;
  /** Whether the bot is in it. Posting to a public channel it isn't in → not_in_channel; private → channel_not_found. */
  isMember?: boolean;
  isArchived?: boolean;
}

export type Args = Record<string, unknown>;

export interface FakeSlackFileInput {
  /** Defaults to a fresh F… id. */
  id?: string;
  name: string;
  content: string | Buffer;
  /** Slack's file type, e.g. 'csv' (default: from the name's extension). */
  filetype?: string;
  /** Who uploaded it (default U0UPLOADER). */
  userId?: string;
}

/** A file as Slack describes it (files.info, file_input state): the fields Slack sends, content aside. */
export interface FakeSlackFile extends Args {
  id: string;
  name: string;
  title: string;
  filetype: string;
  mimetype: string;
  size: number;
  user: string;
  url_private: string;
  url_private_download: string;
}

export interface RecordedDownload {
  fileId: string;
  /** False when the request lacked a valid token (it got the sign-in page). */
  authorized: boolean;
  at: Date;
}

export interface ViewSubmissionOptions {
  /** The modal being submitted: `view.id` of an accepted views.open / views.push / views.update. */
  viewId: string;
  userId: string;
  /**
   * block_id → the value the person entered, by element type: plain_text_input a string; checkboxes and
   * multi selects the option values; static_select an option value; file_input file ids (from addFile).
   * Input blocks left out submit what they show (their initial value, option(s), date…), as in Slack; `null`
   * clears one.
   */
  values?: Record<string, string | readonly string[] | null>;
}

export interface ViewActionOptions {
  /** The modal acted in: `view.id` of an accepted views.open / views.push / views.update. */
  viewId: string;
  userId: string;
  /** The element acted on, by its action_id (and block_id when several blocks hold that action_id). */
  actionId: string;
  blockId?: string;
  /**
   * What the person chose: a static_select option value (must be one of its options), any value for an
   * external_select (its text is the value), the checked values of checkboxes. Buttons send their own value.
   */
  value?: string | readonly string[];
  /** What the modal's input blocks hold at that moment, as for viewSubmission (left out: what they show initially). */
  values?: Record<string, string | readonly string[] | null>;
}

export interface BlockSuggestionOptions {
  viewId: string;
  userId: string;
  /** The external_select asking for options. */
  actionId: string;
  blockId?: string;
  /** What the person typed so far. */
  value: string;
}

/** A file sent through files.getUploadURLExternal → POST → files.completeUploadExternal. */
export interface RecordedUpload {
  fileId: string;
  filename: string;
  /** The length declared to files.getUploadURLExternal. */
  length: number;
  /** The bytes POSTed to the upload URL (undefined until then). */
  content?: Buffer;
  /** Set by files.completeUploadExternal. */
  completed: boolean;
  title?: string;
  channelId?: string;
  initialComment?: string;
  at: Date;
}

export interface RecordedCall {
  method: string;
  /** As sent, with JSON form fields (`blocks`, `view`, `attachments`, `metadata`) parsed; without `token`. */
  args: Args;
  token: string | undefined;
  at: Date;
  ok: boolean;
  error?: string;
  /** The JSON body the fake answered with. */
  response: Record<string, unknown>;
  /** True when the answer came from failNext(). */
  injected: boolean;
}

export interface RecordedResponse {
  url: string;
  body: Args;
  at: Date;
}

/** Something Slack refused (not counting failNext()): check `fake.rejections` when a test misbehaves. */
export interface Rejection {
  /** Web API method, 'response_url', or 'socket_ack'. */
  source: string;
  error: string;
  messages: string[];
  body: unknown;
  at: Date;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  threadTs?: string;
  metadata?: unknown;
}

export interface WaitOptions {
  timeoutMs?: number;
}

export interface CallQuery {
  /** Also match calls Slack refused (ok: false). Off by default: a refused call never satisfies a wait. */
  includeFailed?: boolean;
}

export interface FailNextOptions {
  /** HTTP status; 429 answers with Retry-After (default 1 s), as Slack's rate limiter does. */
  status?: number;
  retryAfter?: number;
}

export interface TriggerIdOptions {
  /** The modal this interaction came from: views.push then stacks onto it (Slack allows 3 views per stack). */
  viewId?: string;
}

export type SocketEnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketSendOptions {
  /** Defaults as Slack sets them: true for slash_commands, view_submission and block_suggestion. */
  acceptsResponsePayload?: boolean;
  /** Slack waits 3 s for the ack before it gives up (and shows the person an error or retries the event). */
  timeoutMs?: number;
  retryAttempt?: number;
  retryReason?: string;
}

export interface SocketAck {
  envelope_id: string;
  payload?: Args;
}

export interface FakeSocketMode {
  /** Connections that completed the handshake (received hello) since start. */
  readonly connectionCount: number;
  readonly openConnections: number;
  readonly acks: readonly SocketAck[];
  /** Resolves once `count` connections (default 1) have been made and one is open. */
  waitForConnection(options?: WaitOptions & { count?: number }): Promise<void>;
  /** Sends an envelope to the newest connection; resolves with the client's ack. */
  send(type: SocketEnvelopeType, payload: Args, options?: SocketSendOptions): Promise<SocketAck>;
  /** Slack's "please reconnect" message; the client closes and calls apps.connections.open again. */
  disconnect(reason?: 'warning' | 'refresh_requested' | 'link_disabled'): void;
}

export interface FakeSlack {
  /** `slackApiUrl` for WebClient / Bolt's clientOptions: http://127.0.0.1:PORT/api/ */
  readonly url: string;
  readonly origin: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;
  /** Every Web API request, refused ones included. */
  readonly calls: readonly RecordedCall[];
  /** Accepted posts to response URLs. */
  readonly responses: readonly RecordedResponse[];
  readonly rejections: readonly Rejection[];
  /** Channel messages as they stand now: posted, updated, not deleted (no ephemerals). */
  readonly messages: readonly StoredMessage[];
  readonly socket: FakeSocketMode;
  callsTo(method: string, query?: CallQuery): RecordedCall[];
  waitForCall(method: string, predicate?: (call: RecordedCall) => boolean, options?: WaitOptions & CallQuery): Promise<RecordedCall>;
  waitForResponse(predicate?: (response: RecordedResponse) => boolean, options?: WaitOptions): Promise<RecordedResponse>;
  addUser(user: FakeSlackUser): FakeSlackUser;
  addChannel(channel: FakeSlackChannel): FakeSlackChannel;
  /** A file as if a person had uploaded it (e.g. through a file_input). */
  addFile(file: FakeSlackFileInput): FakeSlackFile;
  /** Requests for file content, authorized or not. */
  readonly downloads: readonly RecordedDownload[];
  /**
   * The payload Slack sends when the person submits the modal (send it with the app's interaction()).
   * Throws, as the Slack client would refuse to submit, when a required input is empty or a value
   * does not fit its element.
   */
  viewSubmission(options: ViewSubmissionOptions): Args;
  /**
   * What Slack does with the ack of a view_submission: an empty ack closes the submitted modal (a pushed
   * one uncovers the view under it); `response_action: 'update'` shows the ack's view instead (same id,
   * new hash); 'clear' closes the whole stack; 'errors' leaves it open. Over HTTP the ack goes back to the test, not through this
   * fake, so a test that goes on in those modals hands the ack here. Returns the view now shown (none
   * when the modal closed); throws what Slack would refuse.
   */
  applySubmissionAck(viewId: string, ack: unknown): Args | undefined;
  /** The block_actions payload of a person acting on an element of an open modal (send it with interaction()). */
  viewAction(options: ViewActionOptions): Args;
  /** The block_suggestion payload Slack sends when a person types into an external_select of an open modal. */
  blockSuggestion(options: BlockSuggestionOptions): Args;
  /** Files uploaded through the upload URLs (filesUploadV2), completed or not. */
  readonly uploads: readonly RecordedUpload[];
  newTriggerId(options?: TriggerIdOptions): string;
  responseUrl(): string;
  failNext(method: string, error?: string, options?: FailNextOptions): void;
  /** Forgets calls, responses, rejections, acks, messages, views, trigger ids, downloads and pending failures; keeps users, channels and files. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** A response_url accepts up to 5 posts within 30 minutes (Slack: "Handling user interaction"). */
const RESPONSE_URL_USES = 5;
/** File content is served in pieces of this size. */
const DOWNLOAD_CHUNK_BYTES = 64 * 1024;
const MIME_TYPES: Record<string, string> = { csv: 'text/csv', txt: 'text/plain', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', pdf: 'application/pdf', png: 'image/png' };
/** What Slack serves for a private file URL requested without a valid token. */
const SIGN_IN_PAGE = '<!DOCTYPE html><html lang="en-US"><head><title>Slack</title></head><body>Sign in to your workspace</body></html>';
/** Fields the WebClient sends as JSON strings inside a form body. */
const JSON_FORM_FIELDS = ['blocks', 'attachments', 'view', 'metadata', 'files'] as const;
/** files.completeUploadExternal takes only encoded conversation ids for channel_id (no user ids). */
const UPLOAD_CHANNEL_PATTERN = /^[CGDZ][A-Z0-9]{8,}$/;

type Result = { ok: true } & Args;
type Failure = { ok: false; error: string } & Args;

interface ChannelRecord {
  id: string;
  name: string;
  isPrivate: boolean;
  isMember: boolean;
  isArchived: boolean;
  isIm: boolean;
  isMpim: boolean;
  user?: string;
  created: number;
}

interface ViewRecord {
  id: string;
  hash: string;
  type: ViewType;
  rootViewId: string;
  userId?: string;
  externalId?: string;
  body: Args;
}

interface TriggerRecord {
  issuedAt: number;
  used: boolean;
  viewId?: string;
}

interface Waiter {
  settle(): boolean;
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const config = {
    botToken: options.botToken ?? 'xoxb-test',
    appToken: options.appToken ?? 'xapp-test',
    teamId: options.teamId ?? 'T0TEST',
    teamName: options.teamName ?? 'Nurture Test',
    teamDomain: options.teamDomain ?? 'nurture-test',
    appId: options.appId ?? 'A0TEST',
    botUserId: options.botUserId ?? 'U0BOT',
    botId: options.botId ?? 'B0BOT',
    triggerIdTtlMs: options.triggerIdTtlMs ?? 3_000,
    socketPingIntervalMs: options.socketPingIntervalMs ?? 5_000,
  };

  // ---- state --------------------------------------------------------------------------------------
  const users = new Map<string, FakeSlackUser>();
  const channels = new Map<string, ChannelRecord>();
  const dmByUser = new Map<string, string>();
  let calls: RecordedCall[] = [];
  let responses: RecordedResponse[] = [];
  let rejections: Rejection[] = [];
  let acks: SocketAck[] = [];
  let messages = new Map<string, StoredMessage>();
  let views = new Map<string, ViewRecord>();
  let homeViewByUser = new Map<string, string>();
  let stacks = new Map<string, string[]>();
  let triggers = new Map<string, TriggerRecord>();
  let responseUrls = new Map<string, { uses: number }>();
  let failures = new Map<string, Array<{ error: string } & FailNextOptions>>();
  const files = new Map<string, { file: FakeSlackFile; content: Buffer }>();
  let downloads: RecordedDownload[] = [];
  let uploads: RecordedUpload[] = [];
  const waiters = new Set<Waiter>();
  let sequence = 0;

  const nextId = (prefix: string) => `${prefix}${(++sequence).toString(36).toUpperCase().padStart(8, '0')}`;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++sequence % 1_000_000).padStart(6, '0')}`;
  const nextHash = () => `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
  const notify = () => {
    for (const waiter of waiters) if (waiter.settle()) waiters.delete(waiter);
  };

  function waitFor<T>(find: () => T | undefined, timeoutMs: number, describeFailure: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const found = find();
      if (found !== undefined) return resolve(found);
      const waiter: Waiter = {
        settle() {
          const match = find();
          if (match === undefined) return false;
          clearTimeout(timer);
          resolve(match);
          return true;
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(describeFailure()));
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  // ---- channels and users -------------------------------------------------------------------------
  function addChannel(channel: FakeSlackChannel): FakeSlackChannel {
    channels.set(channel.id, {
      id: channel.id,
      name: channel.name ?? channel.id.toLowerCase(),
      isPrivate: channel.isPrivate ?? false,
      isMember: channel.isMember ?? true,
      isArchived: channel.isArchived ?? false,
      isIm: false,
      isMpim: false,
      created: Math.floor(Date.now() / 1000),
    });
    return channel;
  }

  function openDm(userId: string): { channel: ChannelRecord; alreadyOpen: boolean } {
    const existing = dmByUser.get(userId);
    if (existing !== undefined) return { channel: channels.get(existing)!, alreadyOpen: true };
    const channel: ChannelRecord = {
      id: nextId('D'),
      name: userId,
      isPrivate: true,
      isMember: true,
      isArchived: false,
      isIm: true,
      isMpim: false,
      user: userId,
      created: Math.floor(Date.now() / 1000),
    };
    channels.set(channel.id, channel);
    dmByUser.set(userId, channel.id);
    return { channel, alreadyOpen: false };
  }

  /** A channel id, a #name, or a user id (Slack posts to the bot's DM with that user). */
  function findChannel(ref: unknown): ChannelRecord | undefined {
    if (typeof ref !== 'string' || ref === '') return undefined;
    const byId = channels.get(ref);
    if (byId !== undefined) return byId;
    if (users.has(ref)) return openDm(ref).channel;
    const name = ref.replace(/^#/, '');
    return [...channels.values()].find((channel) => !channel.isIm && channel.name === name);
  }

  /** The channel a bot may post in, or Slack's error for why not. */
  function postableChannel(ref: unknown): ChannelRecord | Failure {
    const channel = findChannel(ref);
    if (channel === undefined || (channel.isPrivate && !channel.isMember)) return fail('channel_not_found');
    if (channel.isArchived) return fail('is_archived');
    if (!channel.isMember) return fail('not_in_channel');
    return channel;
  }

  /** views.open and views.push: a valid modal and a trigger id that is fresh and unused (then spent). */
  function acceptModalOpening(args: Args): Failure | { view: Args; trigger: TriggerRecord } {
    if (args.trigger_id === undefined && args.interactivity_pointer === undefined) return fail('invalid_arguments');
    const view = args.view as Args;
    const refused = refuseView(view, 'modal');
    if (refused !== undefined) return refused;
    if (externalIdTaken(view)) return fail('duplicate_external_id');
    const trigger = exchangeTrigger(args.trigger_id ?? args.interactivity_pointer);
    if ('ok' in trigger) return trigger;
    return { view, trigger };
  }

  function channelObject(channel: ChannelRecord): Args {
    return {
      id: channel.id,
      name: channel.isIm ? undefined : channel.name,
      is_channel: !channel.isIm && !channel.isMpim && !channel.isPrivate,
      is_group: !channel.isIm && !channel.isMpim && channel.isPrivate,
      is_im: channel.isIm,
      is_mpim: channel.isMpim,
      is_private: channel.isPrivate,
      is_archived: channel.isArchived,
      is_general: false,
      is_member: channel.isMember,
      created: channel.created,
      user: channel.user,
      context_team_id: config.teamId,
    };
  }

  function userObject(user: FakeSlackUser): Args {
    const tz = user.tz ?? 'America/Los_Angeles';
    const name = user.name ?? user.id.toLowerCase();
    const realName = user.realName ?? name;
    return {
      id: user.id,
      team_id: user.teamId ?? config.teamId,
      name,
      deleted: user.deleted ?? false,
      real_name: realName,
      tz,
      tz_label: timeZoneLabel(tz),
      tz_offset: timeZoneOffsetSeconds(tz),
      is_admin: user.isAdmin ?? false,
      is_owner: user.isOwner ?? false,
      is_primary_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: user.isBot ?? false,
      is_app_user: false,
      updated: Math.floor(Date.now() / 1000),
      profile: {
        real_name: realName,
        real_name_normalized: realName,
        display_name: name,
        display_name_normalized: name,
        email: user.email,
        team: user.teamId ?? config.teamId,
      },
    };
  }

  // ---- messages -----------------------------------------------------------------------------------
  const messageKey = (channel: string, ts: string) => `${channel}/${ts}`;

  function messageObject(message: StoredMessage): Args {
    return {
      type: 'message',
      user: config.botUserId,
      bot_id: config.botId,
      app_id: config.appId,
      team: config.teamId,
      text: message.text ?? '',
      ts: message.ts,
      thread_ts: message.threadTs,
      blocks: message.blocks,
      attachments: message.attachments,
      metadata: message.metadata,
    };
  }

  /** Content checks shared by chat.postMessage, chat.postEphemeral and chat.update. */
  function refuseMessage(args: Args): Failure | undefined {
    if (!hasMessageContent(args)) return fail('no_text');
    const refusal = checkMessage(args);
    return refusal === null ? undefined : refuse(refusal);
  }

  // ---- views --------------------------------------------------------------------------------------
  function storeView(view: Args, record: Omit<ViewRecord, 'hash' | 'body' | 'type'>): ViewRecord {
    const hash = nextHash();
    const type = view.type as ViewType;
    const body: Args = {
      id: record.id,
      team_id: config.teamId,
      type,
      private_metadata: '',
      callback_id: '',
      external_id: '',
      state: { values: {} },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
      ...view,
      hash,
      root_view_id: record.rootViewId,
      previous_view_id: null,
      app_id: config.appId,
      app_installed_team_id: config.teamId,
      bot_id: config.botId,
    };
    const stored: ViewRecord = { ...record, hash, type, body };
    if (record.externalId !== undefined) {
      for (const other of views.values()) if (other.externalId === record.externalId && other.id !== record.id) other.externalId = undefined;
    }
    views.set(record.id, stored);
    return stored;
  }

  /** Validates the `view` argument for a method that takes views of `type`. */
  function refuseView(view: unknown, type: ViewType): Failure | undefined {
    if (view === undefined) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: view'] } });
    if (typeof view === 'string') return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view must be valid JSON'] } });
    const refusal = checkView(view, [type]);
    return refusal === null ? undefined : refuse(refusal);
  }

  function externalIdTaken(view: Args, exceptViewId?: string): boolean {
    const externalId = view.external_id;
    if (typeof externalId !== 'string' || externalId === '') return false;
    return [...views.values()].some((other) => other.externalId === externalId && other.id !== exceptViewId);
  }

  /** Single use, and only within triggerIdTtlMs of the interaction. */
  function exchangeTrigger(triggerId: unknown): TriggerRecord | Failure {
    const trigger = typeof triggerId === 'string' ? triggers.get(triggerId) : undefined;
    if (trigger === undefined) return fail('invalid_trigger_id');
    if (trigger.used) return fail('exchanged_trigger_id');
    if (Date.now() - trigger.issuedAt > config.triggerIdTtlMs) return fail('expired_trigger_id');
    trigger.used = true;
    return trigger;
  }

  // ---- Web API methods ----------------------------------------------------------------------------
  type TokenType = 'bot' | 'app';
  type Handler = (args: Args) => Result | Failure;
  const methods: Record<string, { token: TokenType; handle: Handler }> = {
    'auth.test': {
      token: 'bot',
      handle: () => ({
        ok: true,
        url: `https://${config.teamDomain}.slack.com/`,
        team: config.teamName,
        user: 'nurture',
        team_id: config.teamId,
        user_id: config.botUserId,
        bot_id: config.botId,
        is_enterprise_install: false,
      }),
    },

    'users.info': {
      token: 'bot',
      handle: (args) => {
        const user = typeof args.user === 'string' ? users.get(args.user) : undefined;
        return user === undefined ? fail('user_not_found') : { ok: true, user: userObject(user) };
      },
    },

    'conversations.info': {
      token: 'bot',
      handle: (args) => {
        const channel = typeof args.channel === 'string' ? channels.get(args.channel) : undefined;
        if (channel === undefined || (channel.isPrivate && !channel.isMember)) return fail('channel_not_found');
        return { ok: true, channel: channelObject(channel) };
      },
    },

    'conversations.open': {
      token: 'bot',
      handle: (args) => {
        if (typeof args.channel === 'string') {
          const channel = channels.get(args.channel);
          return channel?.isIm ? { ok: true, no_op: true, already_open: true, channel: { id: channel.id } } : fail('channel_not_found');
        }
        if (typeof args.users !== 'string' || args.users.trim() === '') return fail('users_list_not_supplied');
        const ids = args.users.split(',').map((id) => id.trim());
        if (ids.some((id) => !users.has(id))) return fail('user_not_found');
        if (ids.length > 8) return fail('too_many_users');
        if (ids.length === 1) {
          const { channel, alreadyOpen } = openDm(ids[0]!);
          return { ok: true, no_op: alreadyOpen, already_open: alreadyOpen, channel: { id: channel.id } };
        }
        const mpim: ChannelRecord = {
          id: nextId('G'),
          name: `mpdm-${ids.join('--')}-1`,
          isPrivate: true,
          isMember: true,
          isArchived: false,
          isIm: false,
          isMpim: true,
          created: Math.floor(Date.now() / 1000),
        };
        channels.set(mpim.id, mpim);
        return { ok: true, channel: { id: mpim.id } };
      },
    },

    'chat.postMessage': {
      token: 'bot',
      handle: (args) => {
        const channel = postableChannel(args.channel);
        if ('ok' in channel) return channel;
        const refused = refuseMessage(args);
        if (refused !== undefined) return refused;
        const message: StoredMessage = {
          channel: channel.id,
          ts: nextTs(),
          text: typeof args.text === 'string' ? args.text : undefined,
          blocks: args.blocks as unknown[] | undefined,
          attachments: args.attachments as unknown[] | undefined,
          threadTs: typeof args.thread_ts === 'string' ? args.thread_ts : undefined,
          metadata: args.metadata,
        };
        messages.set(messageKey(channel.id, message.ts), message);
        return { ok: true, channel: channel.id, ts: message.ts, message: messageObject(message) };
      },
    },

    'chat.postEphemeral': {
      token: 'bot',
      handle: (args) => {
        const channel = postableChannel(args.channel);
        if ('ok' in channel) return channel;
        if (typeof args.user !== 'string' || !users.has(args.user)) return fail('user_not_in_channel');
        return refuseMessage(args) ?? { ok: true, message_ts: nextTs() };
      },
    },

    'chat.update': {
      token: 'bot',
      handle: (args) => {
        const channel = findChannel(args.channel);
        if (channel === undefined) return fail('channel_not_found');
        const message = typeof args.ts === 'string' ? messages.get(messageKey(channel.id, args.ts)) : undefined;
        if (message === undefined) return fail('message_not_found');
        const refused = refuseMessage(args);
        if (refused !== undefined) return refused;
        // Fields left out keep their value; blocks: [] removes the blocks.
        if (typeof args.text === 'string') message.text = args.text;
        if (args.blocks !== undefined) message.blocks = args.blocks as unknown[];
        if (args.attachments !== undefined) message.attachments = args.attachments as unknown[];
        if (args.metadata !== undefined) message.metadata = args.metadata;
        return { ok: true, channel: channel.id, ts: message.ts, text: message.text ?? '', message: messageObject(message) };
      },
    },

    'chat.delete': {
      token: 'bot',
      handle: (args) => {
        const channel = findChannel(args.channel);
        if (channel === undefined) return fail('channel_not_found');
        const key = typeof args.ts === 'string' ? messageKey(channel.id, args.ts) : '';
        if (!messages.delete(key)) return fail('message_not_found');
        return { ok: true, channel: channel.id, ts: args.ts };
      },
    },

    'files.info': {
      token: 'bot',
      handle: (args) => {
        const stored = typeof args.file === 'string' ? files.get(args.file) : undefined;
        if (stored === undefined) return fail('file_not_found');
        return { ok: true, file: stored.file, comments: [], response_metadata: { next_cursor: '' } };
      },
    },

    'files.getUploadURLExternal': {
      token: 'bot',
      handle: (args) => {
        const problems: string[] = [];
        if (typeof args.filename !== 'string' || args.filename.trim() === '') problems.push('missing required field: filename');
        const length = Number(args.length);
        if (args.length === undefined || args.length === '') problems.push('missing required field: length');
        else if (!Number.isInteger(length) || length < 1) problems.push('must be a positive integer [json-pointer:/length]');
        if (problems.length > 0) return fail('invalid_arguments', { response_metadata: { messages: problems.map((problem) => `[ERROR] ${problem}`) } });
        const fileId = nextId('F');
        uploads.push({ fileId, filename: String(args.filename), length, completed: false, at: new Date() });
        return { ok: true, upload_url: `${origin}/upload/v1/${fileId}`, file_id: fileId };
      },
    },

    'files.completeUploadExternal': {
      token: 'bot',
      handle: (args) => {
        const list = args.files;
        if (!Array.isArray(list) || list.length === 0 || list.some((item) => typeof (item as Args | null)?.id !== 'string')) {
          return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: files'] } });
        }
        let channel: ChannelRecord | undefined;
        if (args.channel_id !== undefined) {
          if (typeof args.channel_id !== 'string' || !UPLOAD_CHANNEL_PATTERN.test(args.channel_id)) {
            return fail('invalid_arguments', { response_metadata: { messages: [`[ERROR] input must match regex pattern: ${UPLOAD_CHANNEL_PATTERN.source} [json-pointer:/channel_id]`] } });
          }
          const postable = postableChannel(args.channel_id);
          if ('ok' in postable) return postable;
          channel = postable;
        }
        const completing = (list as Args[]).map((item) => ({ item, upload: uploads.find((upload) => upload.fileId === item.id && !upload.completed) }));
        // Slack has no file until its bytes arrived at the upload URL.
        if (completing.some(({ upload }) => upload?.content === undefined)) return fail('file_not_found');
        const shared = completing.map(({ item, upload }) => {
          upload!.completed = true;
          upload!.title = typeof item.title === 'string' ? item.title : upload!.filename;
          upload!.channelId = channel?.id;
          upload!.initialComment = typeof args.initial_comment === 'string' ? args.initial_comment : undefined;
          const file = addFile({ id: upload!.fileId, name: upload!.filename, content: upload!.content!, userId: config.botUserId });
          return { id: file.id, title: upload!.title };
        });
        return { ok: true, files: shared };
      },
    },

    'views.open': {
      token: 'bot',
      handle: (args) => {
        const opening = acceptModalOpening(args);
        if ('ok' in opening) return opening;
        const { view } = opening;
        const id = nextId('V');
        stacks.set(id, [id]);
        return { ok: true, view: storeView(view, { id, rootViewId: id, externalId: view.external_id as string | undefined }).body };
      },
    },

    'views.push': {
      token: 'bot',
      handle: (args) => {
        const opening = acceptModalOpening(args);
        if ('ok' in opening) return opening;
        const { view, trigger } = opening;
        const id = nextId('V');
        // With the modal the interaction came from known, enforce Slack's 3 views per stack.
        const from = trigger.viewId === undefined ? undefined : views.get(trigger.viewId);
        const rootViewId = from?.rootViewId ?? id;
        const stack = stacks.get(rootViewId) ?? [];
        if (stack.length >= 3) return fail('push_limit_reached');
        stacks.set(rootViewId, [...stack, id]);
        const stored = storeView(view, { id, rootViewId, externalId: view.external_id as string | undefined });
        stored.body.previous_view_id = stack.at(-1) ?? null;
        return { ok: true, view: stored.body };
      },
    },

    'views.update': {
      token: 'bot',
      handle: (args) => {
        const current =
          typeof args.view_id === 'string'
            ? views.get(args.view_id)
            : typeof args.external_id === 'string'
              ? [...views.values()].find((view) => view.externalId === args.external_id)
              : undefined;
        if (args.view_id === undefined && args.external_id === undefined) return fail('invalid_arguments');
        if (current === undefined) return fail('not_found');
        const view = args.view as Args;
        const refused = refuseView(view, current.type);
        if (refused !== undefined) return refused;
        if (args.hash !== undefined && args.hash !== current.hash) return fail('hash_conflict');
        if (externalIdTaken(view, current.id)) return fail('duplicate_external_id');
        const previous = current.body.previous_view_id;
        const stored = storeView(view, { id: current.id, rootViewId: current.rootViewId, userId: current.userId, externalId: (view.external_id as string | undefined) ?? current.externalId });
        stored.body.previous_view_id = previous ?? null;
        return { ok: true, view: stored.body };
      },
    },

    'views.publish': {
      token: 'bot',
      handle: (args) => {
        if (typeof args.user_id !== 'string') return fail('invalid_arguments');
        if (!users.has(args.user_id)) return fail('user_not_found');
        const view = args.view as Args;
        const refused = refuseView(view, 'home');
        if (refused !== undefined) return refused;
        const currentId = homeViewByUser.get(args.user_id);
        const current = currentId === undefined ? undefined : views.get(currentId);
        if (args.hash !== undefined && args.hash !== current?.hash) return fail('hash_conflict');
        if (externalIdTaken(view, currentId)) return fail('duplicate_external_id');
        const id = currentId ?? nextId('V');
        homeViewByUser.set(args.user_id, id);
        return { ok: true, view: storeView(view, { id, rootViewId: id, userId: args.user_id, externalId: view.external_id as string | undefined }).body };
      },
    },

    'apps.connections.open': {
      token: 'app',
      handle: () => {
        const ticket = randomUUID();
        socketTickets.add(ticket);
        return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${config.appId}` };
      },
    },
  };

  const tokens = new Map<string, TokenType>([
    [config.botToken, 'bot'],
    [config.appToken, 'app'],
  ]);

  function answerApi(method: string, args: Args, token: string | undefined, parseError: string | undefined): { status: number; headers: Record<string, string>; body: Args; injected: boolean } {
    const json = (body: Args, status = 200, headers: Record<string, string> = {}) => ({ status, headers, body, injected: false });
    const spec = methods[method];
    if (spec === undefined) return json(fail('unknown_method'));
    if (parseError !== undefined) return json(fail(parseError));
    if (token === undefined || token === '') return json(fail('not_authed'));
    const tokenType = tokens.get(token);
    if (tokenType === undefined) return json(fail('invalid_auth'));
    if (tokenType !== spec.token) return json(fail('not_allowed_token_type'));

    const injected = failures.get(method)?.shift();
    if (injected !== undefined) {
      const status = injected.status ?? 200;
      const retryAfter = injected.retryAfter ?? (status === 429 ? 1 : undefined);
      return { status, headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }, body: fail(injected.error), injected: true };
    }
    return json(spec.handle(args));
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = url.pathname.slice('/api/'.length);
    const raw = await readBody(req);
    const { args, token, parseError, warnings } = parseApiRequest(req, url, raw);
    const answer = answerApi(method, args, token, parseError);
    const body = warnings.length > 0 && answer.body.ok === true ? { ...answer.body, warning: warnings.join(','), response_metadata: { warnings } } : answer.body;

    const call: RecordedCall = {
      method,
      args,
      token,
      at: new Date(),
      ok: body.ok === true,
      error: typeof body.error === 'string' ? body.error : undefined,
      response: body,
      injected: answer.injected,
    };
    calls.push(call);
    if (!call.ok && !call.injected) {
      rejections.push({ source: method, error: call.error ?? 'unknown', messages: metadataMessages(body), body: args, at: call.at });
    }
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
    res.end(JSON.stringify(body));
    notify();
  }

  // ---- response URLs ------------------------------------------------------------------------------
  async function handleResponseUrl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const raw = await readBody(req);
    const reply = (status: number, error?: string, messages: string[] = [], body: unknown = raw) => {
      if (error !== undefined) rejections.push({ source: 'response_url', error, messages, body, at: new Date() });
      res.writeHead(status, { 'content-type': error === undefined ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8' });
      // Slack answers a refused response_url post with the bare error code.
      res.end(error === undefined ? JSON.stringify({ ok: true }) : error);
      notify();
    };
    if (req.method !== 'POST') return reply(405, 'method_not_allowed');
    const entry = responseUrls.get(url.pathname.slice('/response/'.length));
    if (entry === undefined) return reply(404, 'expired_url');
    if (entry.uses >= RESPONSE_URL_USES) return reply(404, 'used_url');

    let body: Args;
    try {
      body = parseResponseUrlBody(req, raw);
    } catch {
      return reply(400, 'invalid_payload');
    }
    if (body.delete_original !== true) {
      if (!hasMessageContent(body)) return reply(400, 'no_text', [], body);
      const refusal = checkMessage(body);
      if (refusal !== null) return reply(400, refusal.error, refusal.problems.map((p) => `[ERROR] ${formatProblem(p)}`), body);
    }
    entry.uses += 1;
    responses.push({ url: `${origin}${url.pathname}`, body, at: new Date() });
    reply(200);
  }

  // ---- files --------------------------------------------------------------------------------------
  function addFile(input: FakeSlackFileInput): FakeSlackFile {
    const id = input.id ?? nextId('F');
    const content = typeof input.content === 'string' ? Buffer.from(input.content, 'utf8') : input.content;
    const filetype = input.filetype ?? (/\.([a-z0-9]+)$/i.exec(input.name)?.[1]?.toLowerCase() ?? 'binary');
    const created = Math.floor(Date.now() / 1000);
    const download = `${origin}/files-pri/${config.teamId}-${id}/download/${encodeURIComponent(input.name)}`;
    const file: FakeSlackFile = {
      id,
      created,
      timestamp: created,
      name: input.name,
      title: input.name,
      mimetype: MIME_TYPES[filetype] ?? 'application/octet-stream',
      filetype,
      pretty_type: filetype.toUpperCase(),
      user: input.userId ?? 'U0UPLOADER',
      user_team: config.teamId,
      editable: false,
      size: content.length,
      mode: 'hosted',
      is_external: false,
      external_type: '',
      is_public: false,
      public_url_shared: false,
      display_as_bot: false,
      username: '',
      url_private: `${origin}/files-pri/${config.teamId}-${id}/${encodeURIComponent(input.name)}`,
      url_private_download: download,
      permalink: `https://${config.teamDomain}.slack.com/files/${input.userId ?? 'U0UPLOADER'}/${id}/${encodeURIComponent(input.name)}`,
      permalink_public: `https://slack-files.com/${config.teamId}-${id}-${randomBytes(5).toString('hex')}`,
      channels: [],
      groups: [],
      ims: [],
      comments_count: 0,
    };
    files.set(id, { file, content });
    return file;
  }

  /**
   * GET /files-pri/<team>-<file>/download/<name> (and without /download): the bytes, streamed, for a
   * valid token in the Authorization header. Slack answers a request without one with 200 and its
   * HTML sign-in page, not an error, so a client that forgets the header must notice the content type.
   */
  async function handleDownload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const match = /^\/files-pri\/[^/]+-([^/-]+)\//.exec(url.pathname);
    const stored = match ? files.get(match[1]!) : undefined;
    if (req.method !== 'GET' || stored === undefined) {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body>File not found</body></html>');
      return;
    }
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const authorized = token !== undefined && tokens.get(token) === 'bot';
    downloads.push({ fileId: stored.file.id, authorized, at: new Date() });
    notify();
    if (!authorized) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(SIGN_IN_PAGE);
      return;
    }
    res.writeHead(200, {
      'content-type': stored.file.mimetype,
      'content-length': String(stored.content.length),
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(stored.file.name)}`,
    });
    // In pieces, minding backpressure, so a reader that buffers everything would show in its memory, not ours.
    for (let offset = 0; offset < stored.content.length; offset += DOWNLOAD_CHUNK_BYTES) {
      if (res.destroyed) return;
      if (!res.write(stored.content.subarray(offset, offset + DOWNLOAD_CHUNK_BYTES))) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
      }
    }
    res.end();
  }

  /**
   * POST /upload/v1/<file id>: the bytes of a file announced with files.getUploadURLExternal, raw or as
   * multipart/form-data (what @slack/web-api sends). Slack answers 200 `OK - <bytes>`. The upload service
   * checks the size against the declared length; a URL is good for one upload.
   */
  async function handleUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const upload = uploads.find((candidate) => candidate.fileId === url.pathname.slice('/upload/v1/'.length));
    const answer = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
      notify();
    };
    if (req.method !== 'POST') return answer(405, 'method_not_allowed');
    if (upload === undefined || upload.content !== undefined) return answer(404, 'upload_url_not_found');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    let content = raw;
    const contentType = req.headers['content-type'] ?? '';
    if (/^multipart\/form-data/i.test(contentType)) {
      const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
      const part = [...form.values()].find((value): value is File => typeof value !== 'string');
      if (part === undefined) return answer(400, 'no_file_data');
      content = Buffer.from(await part.arrayBuffer());
    }
    if (content.length !== upload.length) return answer(400, `length_mismatch: declared ${upload.length}, received ${content.length}`);
    upload.content = content;
    answer(200, `OK - ${content.length}`);
  }

  // ---- view submissions ---------------------------------------------------------------------------
  function applySubmissionAck(viewId: string, ack: unknown): Args | undefined {
    const current = views.get(viewId);
    if (current === undefined || current.type !== 'modal') throw new Error(`No modal ${viewId} is open in the fake Slack`);
    const { response_action: action, view } = (typeof ack === 'object' && ack !== null ? ack : {}) as Args;
    const stack = stacks.get(current.rootViewId) ?? [];
    if (action === undefined || action === 'clear') {
      const closing = action === 'clear' ? stack : stack.filter((id) => id === viewId);
      for (const id of closing) views.delete(id);
      stacks.set(current.rootViewId, stack.filter((id) => !closing.includes(id)));
      notify();
      return undefined;
    }
    if (action === 'errors') return current.body;
    if (action !== 'update') throw new Error(`applySubmissionAck() does not model response_action ${String(action)} yet`);
    const refused = refuseView(view, 'modal');
    if (refused !== undefined) throw new Error(`Slack would refuse the ack's view: ${metadataMessages(refused).join(' ')}`);
    const previous = current.body.previous_view_id;
    const stored = storeView(view as Args, { id: current.id, rootViewId: current.rootViewId, userId: current.userId, externalId: current.externalId });
    stored.body.previous_view_id = previous ?? null;
    notify();
    return stored.body;
  }

  function viewSubmission({ viewId, userId, values = {} }: ViewSubmissionOptions): Args {
    const stored = views.get(viewId);
    if (stored === undefined || stored.type !== 'modal') throw new Error(`No modal ${viewId} is open in the fake Slack (views.open returns its id)`);
    const blocks = (stored.body.blocks as Args[] | undefined) ?? [];
    const inputs = new Map(blocks.filter((block) => block.type === 'input').map((block) => [String(block.block_id ?? ''), block]));
    for (const blockId of Object.keys(values)) {
      if (!inputs.has(blockId)) throw new Error(`The modal has no input block "${blockId}"; its inputs: ${[...inputs.keys()].join(', ') || 'none'}`);
    }
    const state: Record<string, Record<string, Args>> = {};
    for (const [blockId, block] of inputs) {
      const element = block.element as Args;
      // An input the person did not touch submits what it showed, as in Slack.
      const given = blockId in values ? values[blockId] : initialOf(element);
      const stateValue = inputState(element, given, blockId);
      if (block.optional !== true && isEmptyState(stateValue)) {
        throw new Error(`Slack would not submit: the required input "${blockId}" is empty`);
      }
      state[blockId] = { [String(element.action_id ?? '')]: stateValue };
    }
    const user = users.get(userId);
    return {
      type: 'view_submission',
      token: 'verification-token-test',
      team: { id: config.teamId, domain: config.teamDomain },
      user: { id: userId, username: user?.name ?? userId.toLowerCase(), name: user?.name ?? userId.toLowerCase(), team_id: config.teamId },
      api_app_id: config.appId,
      trigger_id: newTriggerId({ viewId }),
      view: { ...stored.body, state: { values: state } },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  /** Every element of an open view with the block holding it. */
  function elementsOf(viewId: string): { stored: ViewRecord; found: Array<{ block: Args; element: Args }> } {
    const stored = views.get(viewId);
    if (stored === undefined) throw new Error(`No view ${viewId} is open in the fake Slack`);
    const found: Array<{ block: Args; element: Args }> = [];
    for (const block of (stored.body.blocks as Args[] | undefined) ?? []) {
      const elements = [...((block.elements as Args[] | undefined) ?? []), block.accessory, block.element].filter((element): element is Args => typeof element === 'object' && element !== null);
      for (const element of elements) if (typeof element.action_id === 'string') found.push({ block, element });
    }
    return { stored, found };
  }

  function findElement(viewId: string, actionId: string, blockId: string | undefined) {
    const { stored, found } = elementsOf(viewId);
    const matches = found.filter(({ block, element }) => element.action_id === actionId && (blockId === undefined || block.block_id === blockId));
    if (matches.length === 0) throw new Error(`View ${viewId} has no element "${actionId}"${blockId ? ` in block "${blockId}"` : ''}; its elements: ${found.map(({ element }) => element.action_id).join(', ')}`);
    if (matches.length > 1) throw new Error(`Several blocks hold "${actionId}": say which with blockId (${matches.map(({ block }) => block.block_id).join(', ')})`);
    return { stored, ...matches[0]! };
  }

  /** What an element shows before the person touches it (initial_value, initial_option(s), initial_date…). */
  function initialOf(element: Args): string | string[] | null {
    if (typeof element.initial_value === 'string') return element.initial_value;
    if (typeof element.initial_date === 'string') return element.initial_date;
    if (typeof element.initial_time === 'string') return element.initial_time;
    if (typeof element.initial_user === 'string') return element.initial_user;
    if (Array.isArray(element.initial_users)) return element.initial_users as string[];
    if (Array.isArray(element.initial_options)) return (element.initial_options as Args[]).map((option) => String(option.value));
    if (typeof element.initial_option === 'object' && element.initial_option !== null) return String((element.initial_option as Args).value);
    return null;
  }

  /**
   * Input blocks' state as Slack reports it mid-interaction: what was entered (`values`), else what the
   * element shows initially; without the submit checks.
   */
  function inputStates(stored: ViewRecord, values: Record<string, string | readonly string[] | null>): Record<string, Record<string, Args>> {
    const inputs = ((stored.body.blocks as Args[] | undefined) ?? []).filter((block) => block.type === 'input');
    for (const blockId of Object.keys(values)) {
      if (!inputs.some((block) => block.block_id === blockId)) throw new Error(`The view has no input block "${blockId}"; its inputs: ${inputs.map((block) => block.block_id).join(', ') || 'none'}`);
    }
    const state: Record<string, Record<string, Args>> = {};
    for (const block of inputs) {
      const element = block.element as Args;
      const blockId = String(block.block_id ?? '');
      state[blockId] = { [String(element.action_id ?? '')]: inputState(element, blockId in values ? values[blockId] : initialOf(element), blockId) };
    }
    return state;
  }

  function viewAction({ viewId, userId, actionId, blockId, value, values = {} }: ViewActionOptions): Args {
    const { stored, block, element } = findElement(viewId, actionId, blockId);
    const type = String(element.type);
    const list = value === undefined ? [] : typeof value === 'string' ? [value] : [...value];
    const base: Args = { type, action_id: actionId, block_id: block.block_id, action_ts: `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, '0')}` };
    let action: Args;
    switch (type) {
      case 'button':
        action = { ...base, text: element.text, value: element.value };
        break;
      case 'static_select':
      case 'external_select':
      case 'checkboxes':
      case 'users_select': {
        const state = inputState(element, value ?? null, String(block.block_id));
        action = { ...base, ...state, type };
        break;
      }
      default:
        throw new Error(`viewAction() does not model ${type} elements yet`);
    }
    if (type !== 'button' && list.length === 0 && type !== 'checkboxes') throw new Error(`Say which option was chosen in "${actionId}" (value)`);
    const state = inputStates(stored, values);
    // The element acted on reports its new state too, when it sits in an input block.
    if (block.type === 'input') state[String(block.block_id)] = { [actionId]: inputState(element, value ?? null, String(block.block_id)) };
    const user = users.get(userId);
    return {
      type: 'block_actions',
      token: 'verification-token-test',
      team: { id: config.teamId, domain: config.teamDomain },
      user: { id: userId, username: user?.name ?? userId.toLowerCase(), name: user?.name ?? userId.toLowerCase(), team_id: config.teamId },
      api_app_id: config.appId,
      container: { type: 'view', view_id: viewId },
      trigger_id: newTriggerId({ viewId }),
      view: { ...stored.body, state: { values: state } },
      actions: [action],
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  function blockSuggestion({ viewId, userId, actionId, blockId, value }: BlockSuggestionOptions): Args {
    const { stored, block, element } = findElement(viewId, actionId, blockId);
    if (element.type !== 'external_select' && element.type !== 'multi_external_select') throw new Error(`"${actionId}" is a ${String(element.type)}, not an external select`);
    const user = users.get(userId);
    return {
      type: 'block_suggestion',
      token: 'verification-token-test',
      team: { id: config.teamId, domain: config.teamDomain },
      user: { id: userId, name: user?.name ?? userId.toLowerCase(), team_id: config.teamId },
      api_app_id: config.appId,
      container: { type: 'view', view_id: viewId },
      action_id: actionId,
      block_id: block.block_id,
      value,
      view: stored.body,
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  /** The state value Slack reports for one element, from what the person entered. */
  function inputState(element: Args, given: string | readonly string[] | null | undefined, blockId: string): Args {
    const type = String(element.type);
    const list = given === undefined || given === null ? [] : typeof given === 'string' ? [given] : [...given];
    const optionsOf = () => (element.options as Args[] | undefined) ?? ((element.option_groups as Array<{ options: Args[] }> | undefined) ?? []).flatMap((group) => group.options);
    const pick = (value: string) => {
      const option = optionsOf().find((candidate) => candidate.value === value);
      if (option === undefined) throw new Error(`"${value}" is not an option of "${blockId}"`);
      return option;
    };
    switch (type) {
      case 'plain_text_input':
      case 'email_text_input':
      case 'url_text_input':
      case 'number_input': {
        if (Array.isArray(given)) throw new Error(`"${blockId}" takes one value`);
        const value = typeof given === 'string' && given !== '' ? given : null;
        const max = element.max_length;
        if (value !== null && typeof max === 'number' && value.length > max) throw new Error(`Slack would not submit: "${blockId}" allows at most ${max} characters`);
        return { type, value };
      }
      case 'checkboxes':
      case 'multi_static_select':
        return { type, selected_options: list.map(pick) };
      case 'static_select':
      case 'radio_buttons':
        return { type, selected_option: list[0] === undefined ? null : pick(list[0]) };
      // External selects take any value: their options come from the app, as the person types.
      case 'external_select':
        return { type, selected_option: list[0] === undefined ? null : { text: { type: 'plain_text', text: list[0].slice(0, 75), emoji: true }, value: list[0] } };
      case 'multi_external_select':
        return { type, selected_options: list.map((value) => ({ text: { type: 'plain_text', text: value.slice(0, 75), emoji: true }, value })) };
      case 'users_select':
        return { type, selected_user: list[0] ?? null };
      case 'multi_users_select':
        return { type, selected_users: list };
      case 'datepicker': {
        if (list[0] !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(list[0])) throw new Error(`"${blockId}" takes a date written YYYY-MM-DD`);
        return { type, selected_date: list[0] ?? null };
      }
      case 'timepicker': {
        if (list[0] !== undefined && !/^\d{2}:\d{2}$/.test(list[0])) throw new Error(`"${blockId}" takes a time written HH:mm`);
        return { type, selected_time: list[0] ?? null };
      }
      case 'file_input': {
        const max = typeof element.max_files === 'number' ? element.max_files : 10;
        if (list.length > max) throw new Error(`Slack would not submit: "${blockId}" takes at most ${max} file(s)`);
        const allowed = element.filetypes as string[] | undefined;
        const chosen = list.map((id) => {
          const stored = files.get(id);
          if (stored === undefined) throw new Error(`No file ${id} in the fake Slack: addFile() it first`);
          if (allowed !== undefined && !allowed.includes(stored.file.filetype)) {
            throw new Error(`Slack would not accept ${stored.file.name} in "${blockId}": only ${allowed.join(', ')}`);
          }
          return stored.file;
        });
        return { type, files: chosen };
      }
      default:
        throw new Error(`viewSubmission() does not model ${type} inputs yet (block "${blockId}")`);
    }
  }

  function newTriggerId({ viewId }: TriggerIdOptions = {}): string {
    const id = `${Date.now()}.${config.teamId.replace(/\D/g, '') || '1'}.${randomBytes(16).toString('hex')}`;
    triggers.set(id, { issuedAt: Date.now(), used: false, viewId });
    return id;
  }

  // ---- Socket Mode --------------------------------------------------------------------------------
  const socketTickets = new Set<string>();
  const sockets = new Set<WebSocket>();
  const pendingAcks = new Map<string, { envelopeType: SocketEnvelopeType; payload: Args; accepts: boolean; resolve(ack: SocketAck): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  let newestSocket: WebSocket | undefined;
  let connectionCount = 0;
  const wss = new WebSocketServer({ noServer: true });

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', origin);
    const ticket = url.searchParams.get('ticket');
    // Each apps.connections.open URL is good for one connection.
    if (url.pathname !== '/link/' || ticket === null || !socketTickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
  }

  function onSocket(ws: WebSocket): void {
    sockets.add(ws);
    newestSocket = ws;
    connectionCount += 1;
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'applink-fake-slack', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: config.appId },
      }),
    );
    // Slack's servers ping; SocketModeClient treats a ping gap over serverPingTimeout (30 s) as a dead link.
    ws.ping();
    const pinger = setInterval(() => ws.ping(), config.socketPingIntervalMs);
    pinger.unref();
    ws.on('message', (data, isBinary) => {
      if (!isBinary) onSocketMessage(data.toString());
    });
    ws.on('close', () => {
      clearInterval(pinger);
      sockets.delete(ws);
      if (newestSocket === ws) newestSocket = [...sockets].at(-1);
    });
    ws.on('error', () => undefined);
    notify();
  }

  function onSocketMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || typeof (message as SocketAck).envelope_id !== 'string') return;
    const ack = message as SocketAck;
    acks.push(ack);
    const pending = pendingAcks.get(ack.envelope_id);
    if (pending === undefined) return;
    pendingAcks.delete(ack.envelope_id);
    clearTimeout(pending.timer);
    const refusal = pending.accepts ? checkAckPayload(pending.envelopeType, pending.payload, ack.payload ?? {}) : null;
    if (refusal !== null) {
      const lines = refusal.problems.map((p) => `[ERROR] ${formatProblem(p)}`);
      rejections.push({ source: 'socket_ack', error: refusal.error, messages: lines, body: ack.payload, at: new Date() });
      pending.reject(new Error(`Slack would refuse the ack payload for envelope ${ack.envelope_id}: ${refusal.error}\n${lines.join('\n')}`));
    } else {
      pending.resolve(ack);
    }
    notify();
  }

  const socket: FakeSocketMode = {
    get connectionCount() {
      return connectionCount;
    },
    get openConnections() {
      return sockets.size;
    },
    get acks() {
      return acks;
    },
    waitForConnection({ timeoutMs = DEFAULT_TIMEOUT_MS, count = 1 } = {}) {
      return waitFor(
        () => (connectionCount >= count && sockets.size > 0 ? true : undefined),
        timeoutMs,
        () => `Timed out after ${timeoutMs} ms waiting for Socket Mode connection #${count}: ${connectionCount} made, ${sockets.size} open; apps.connections.open calls: ${calls.filter((c) => c.method === 'apps.connections.open').map(describeCall).join('; ') || 'none'}`,
      ).then(() => undefined);
    },
    send(type, payload, sendOptions = {}) {
      const ws = newestSocket;
      if (ws === undefined) return Promise.reject(new Error(`No Socket Mode client is connected to the fake Slack (send ${type})`));
      const timeoutMs = sendOptions.timeoutMs ?? 3_000;
      const accepts = sendOptions.acceptsResponsePayload ?? defaultAcceptsResponsePayload(type, payload);
      const envelopeId = randomUUID();
      const envelope: Args = { envelope_id: envelopeId, payload, type, accepts_response_payload: accepts };
      if (type === 'events_api') {
        envelope.retry_attempt = sendOptions.retryAttempt ?? 0;
        envelope.retry_reason = sendOptions.retryReason ?? '';
      }
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pendingAcks.delete(envelopeId);
          reject(new Error(`No ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms (Slack requires one within 3 s)`));
        }, timeoutMs);
        pendingAcks.set(envelopeId, { envelopeType: type, payload, accepts, resolve, reject, timer });
        ws.send(JSON.stringify(envelope));
      });
    },
    disconnect(reason = 'refresh_requested') {
      for (const ws of sockets) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake-slack' } }));
    },
  };

  // ---- HTTP server --------------------------------------------------------------------------------
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const route = url.pathname.startsWith('/api/')
      ? handleApi(req, res, url)
      : url.pathname.startsWith('/response/')
        ? handleResponseUrl(req, res, url)
        : url.pathname.startsWith('/files-pri/')
          ? handleDownload(req, res, url)
          : url.pathname.startsWith('/upload/v1/')
            ? handleUpload(req, res, url)
            : Promise.resolve(void res.writeHead(404).end('not found'));
    route.catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake Slack failed: ${error instanceof Error ? error.stack : String(error)}`);
    });
  });
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  // ---- the handle tests use -----------------------------------------------------------------------
  const acceptedCallsTo = (method: string, query: CallQuery = {}) =>
    calls.filter((call) => call.method === method && (call.ok || query.includeFailed === true));

  return {
    url: `${origin}/api/`,
    origin,
    botToken: config.botToken,
    appToken: config.appToken,
    teamId: config.teamId,
    teamDomain: config.teamDomain,
    appId: config.appId,
    botUserId: config.botUserId,
    botId: config.botId,
    get calls() {
      return calls;
    },
    get responses() {
      return responses;
    },
    get rejections() {
      return rejections;
    },
    get messages() {
      return [...messages.values()];
    },
    socket,
    callsTo: acceptedCallsTo,
    waitForCall(method, predicate = () => true, { timeoutMs = DEFAULT_TIMEOUT_MS, includeFailed = false } = {}) {
      return waitFor(
        () => acceptedCallsTo(method, { includeFailed }).find(predicate),
        timeoutMs,
        () =>
          `Timed out after ${timeoutMs} ms waiting for ${includeFailed ? 'a' : 'an accepted'} ${method} call${predicate.length > 0 ? ' matching the predicate' : ''}. ` +
          `Received ${calls.length} call(s)${calls.length > 0 ? ':\n  ' : ''}${calls.map(describeCall).join('\n  ')}`,
      );
    },
    waitForResponse(predicate = () => true, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
      return waitFor(
        () => responses.find(predicate),
        timeoutMs,
        () =>
          `Timed out after ${timeoutMs} ms waiting for a response_url post${predicate.length > 0 ? ' matching the predicate' : ''}. ` +
          `Accepted: ${responses.length === 0 ? 'none' : responses.map((r) => summarize(r.body)).join('; ')}. ` +
          `Refused: ${rejections.filter((r) => r.source === 'response_url').map((r) => `${r.error} ${r.messages.join(' ')}`).join('; ') || 'none'}`,
      );
    },
    addUser(user) {
      users.set(user.id, user);
      return user;
    },
    addChannel,
    newTriggerId,
    addFile,
    get downloads() {
      return downloads;
    },
    get uploads() {
      return uploads;
    },
    viewSubmission,
    applySubmissionAck,
    viewAction,
    blockSuggestion,
    responseUrl() {
      const id = `${config.teamId}/${randomBytes(8).toString('hex')}`;
      responseUrls.set(id, { uses: 0 });
      return `${origin}/response/${id}`;
    },
    failNext(method, error, { status, retryAfter } = {}) {
      const queue = failures.get(method) ?? [];
      queue.push({ error: error ?? (status === 429 ? 'ratelimited' : 'internal_error'), status, retryAfter });
      failures.set(method, queue);
    },
    reset() {
      calls = [];
      responses = [];
      rejections = [];
      acks = [];
      messages = new Map();
      views = new Map();
      homeViewByUser = new Map();
      stacks = new Map();
      triggers = new Map();
      responseUrls = new Map();
      failures = new Map();
      downloads = [];
      uploads = [];
    },
    async close() {
      for (const pending of pendingAcks.values()) {
        clearTimeout(pending.timer);
        pending.reject(new Error('fake Slack closed before the ack arrived'));
      }
      pendingAcks.clear();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// helpers

/** An input the person left empty (Slack's client refuses to submit a required one). */
function isEmptyState(state: Args): boolean {
  if ('value' in state) return state.value === null;
  if ('selected_options' in state) return (state.selected_options as unknown[]).length === 0;
  if ('selected_option' in state) return state.selected_option === null;
  if ('selected_user' in state) return state.selected_user === null;
  if ('selected_users' in state) return (state.selected_users as unknown[]).length === 0;
  if ('selected_date' in state) return state.selected_date === null;
  if ('selected_time' in state) return state.selected_time === null;
  if ('files' in state) return (state.files as unknown[]).length === 0;
  return false;
}

function fail(error: string, extra: Args = {}): Failure {
  return { ok: false, error, ...extra };
}

/** Slack's refusal body: `errors` (for chat.*) and `[ERROR] …` lines in response_metadata.messages. */
function refuse(refusal: SlackRefusal): Failure {
  const lines = refusal.problems.map(formatProblem);
  return fail(refusal.error, {
    ...(refusal.error === 'invalid_blocks' ? { errors: lines } : {}),
    response_metadata: { messages: lines.map((line) => `[ERROR] ${line}`) },
  });
}

function metadataMessages(body: Args): string[] {
  const metadata = body.response_metadata as { messages?: unknown } | undefined;
  return Array.isArray(metadata?.messages) ? metadata.messages.map(String) : [];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function mediaType(req: IncomingMessage): { type: string; hasCharset: boolean } {
  const header = req.headers['content-type'] ?? '';
  return { type: header.split(';')[0]!.trim().toLowerCase(), hasCharset: /charset=/i.test(header) };
}

/**
 * Slack takes form bodies (token in the Authorization header or a `token` field) and JSON bodies
 * (token only in the header; without `charset` it warns missing_charset), plus query-string arguments.
 */
function parseApiRequest(req: IncomingMessage, url: URL, raw: string): { args: Args; token: string | undefined; parseError?: string; warnings: string[] } {
  const args: Args = Object.fromEntries(url.searchParams);
  const warnings: string[] = [];
  const { type, hasCharset } = mediaType(req);
  let parseError: string | undefined;
  let jsonBody = false;

  if (raw.length > 0 && type === 'application/x-www-form-urlencoded') {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw)));
  } else if (raw.length > 0 && type === 'application/json') {
    jsonBody = true;
    if (!hasCharset) warnings.push('missing_charset');
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      Object.assign(args, parsed);
    } catch {
      parseError = 'invalid_json';
    }
  } else if (raw.length > 0) {
    parseError = 'invalid_form_data';
  }

  if (!jsonBody) {
    for (const field of JSON_FORM_FIELDS) {
      const value = args[field];
      if (typeof value !== 'string') continue;
      try {
        args[field] = JSON.parse(value);
      } catch {
        // Left as a string: the method answers invalid_blocks_format / invalid_arguments.
      }
    }
  }

  const header = req.headers.authorization;
  const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
  const fieldToken = !jsonBody && typeof args.token === 'string' ? args.token : undefined;
  delete args.token;
  return { args, token: bearer ?? fieldToken, parseError, warnings };
}

/** Bolt's respond() posts JSON; Slack also takes a form field `payload` holding JSON. */
function parseResponseUrlBody(req: IncomingMessage, raw: string): Args {
  const { type } = mediaType(req);
  const json = type === 'application/x-www-form-urlencoded' ? (new URLSearchParams(raw).get('payload') ?? '') : raw;
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
  return parsed as Args;
}

function defaultAcceptsResponsePayload(type: SocketEnvelopeType, payload: Args): boolean {
  if (type === 'slash_commands') return true;
  return type === 'interactive' && (payload.type === 'view_submission' || payload.type === 'block_suggestion');
}

/** What Slack does with an ack's payload: post it as a message (commands) or show the view (view_submission). */
function checkAckPayload(type: SocketEnvelopeType, envelopePayload: Args, ack: Args): SlackRefusal | null {
  if (type === 'slash_commands' && hasMessageContent(ack)) return checkMessage(ack);
  if (type === 'interactive' && envelopePayload.type === 'view_submission') {
    if (ack.response_action === 'update' || ack.response_action === 'push') return checkView(ack.view, ['modal']);
  }
  return null;
}

function describeCall(call: RecordedCall): string {
  const outcome = call.ok ? 'ok' : `${call.error}${call.injected ? ' (failNext)' : ''}${metadataMessages(call.response).length > 0 ? ` ${metadataMessages(call.response).join(' ')}` : ''}`;
  return `${call.method} → ${outcome} ${summarize(call.args)}`;
}

function summarize(args: Args): string {
  const short = Object.fromEntries(
    Object.entries(args).map(([key, value]) => [key, Array.isArray(value) ? `[${value.length} ${key}]` : typeof value === 'object' && value !== null ? '{…}' : value]),
  );
  const text = JSON.stringify(short);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}

function timeZoneOffsetSeconds(timeZone: string, at = new Date()): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((part) => part.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (match === null) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 3600 + Number(match[3]) * 60);
}

function timeZoneLabel(timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'long' }).formatToParts(new Date()).find((part) => part.type === 'timeZoneName')?.value ?? timeZone;
}
