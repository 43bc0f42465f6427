import { App, HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { ExtendedErrorHandlerArgs } from '@slack/bolt/dist/App.js';
import type { WebClientOptions } from '@slack/web-api';
import type { Config } from '../config.ts';
import { newReferenceId } from '../lib/reference-id.ts';
import type { Services } from '../services.ts';
import { registerHome } from '../modules/home/register-home.ts';
import { registerImport } from '../modules/imports/register-import.ts';
import { registerLeads } from '../modules/leads/register-leads.ts';
import { registerNewsletters } from '../modules/newsletters/register-newsletters.ts';
import { registerOneToOne } from '../modules/one-to-one/register-one-to-one.ts';
import { registerSegments } from '../modules/segments/register-segments.ts';
import { registerSequences } from '../modules/sequences/register-sequences.ts';
import { registerTemplates } from '../modules/templates/register-templates.ts';
import { registerSettings } from '../modules/settings/register-settings.ts';
import { registerScoring } from '../modules/scoring/register-scoring.ts';
import { registerAlerts } from '../modules/alerts/register-alerts.ts';
import { boltLogger } from './bolt-logger.ts';
import { unexpectedErrorText } from './messages.ts';
import { registerNurtureCommand } from './nurture-command.ts';
import { SUBCOMMANDS } from './subcommands.ts';

export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackApp {
  readonly app: App;
  /** HTTP mode: the listener our own server hands POST /slack/events to. Undefined in Socket Mode. */
  readonly requestListener?: HTTPReceiver['requestListener'];
  /** Socket Mode connects here; HTTP mode verifies the bot token (auth.test). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the Bolt app in HTTP or Socket Mode (SLACK_APP_TOKEN set) and registers every listener. */
export function createSlackApp(config: Config, services: Services, clientOptions: WebClientOptions): SlackApp {
  const logger = boltLogger(services.logger);
  const socketMode = Boolean(config.slack.appToken);
  const receiver: Receiver = socketMode
    ? new SocketModeReceiver({ appToken: config.slack.appToken!, logger, installerOptions: { clientOptions } })
    : new HTTPReceiver({ signingSecret: config.slack.signingSecret!, endpoints: SLACK_EVENTS_PATH, logger });
  const app = new App({ token: config.slack.botToken, receiver, logger, clientOptions, deferInitialization: true, extendedErrorHandler: true });

  registerNurtureCommand(app, services, SUBCOMMANDS);
  registerHome(app, services, SUBCOMMANDS);
  registerLeads(app, services);
  registerImport(app, services);
  registerSegments(app, services);
  registerTemplates(app, services);
  registerSettings(app, services);
  registerScoring(app, services);
  registerAlerts(app, services);
  registerNewsletters(app, services);
  registerSequences(app, services);
  registerOneToOne(app, services);

  app.error(async ({ error, body, context }: ExtendedErrorHandlerArgs) => {
    const referenceId = newReferenceId();
    services.logger.error({ err: error, referenceId, teamId: context?.teamId, type: body?.type }, 'slack listener failed');
    // A click in a message or the Home tab has no response_url we could always use: tell the person by DM.
    const interaction = body as { type?: string; user?: { id?: string } } | undefined;
    const userId = interaction?.user?.id;
    if (userId && interaction?.type !== 'event_callback') {
      await services.slack.chat.postMessage({ channel: userId, text: unexpectedErrorText(referenceId) }).catch(() => undefined);
    }
  });

  return {
    app,
    requestListener: receiver instanceof HTTPReceiver ? receiver.requestListener : undefined,
    async start() {
      await app.init();
      if (socketMode) await app.start();
    },
    async stop() {
      if (socketMode) await app.stop();
    },
  };
}
