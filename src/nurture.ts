import { readFileSync } from 'node:fs';
import { WebClient, retryPolicies, type WebClientOptions } from '@slack/web-api';
import type { Config } from './config.ts';
import { createSql, type Sql } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { openDatabase } from './db/open-database.ts';
import { healthRoute, type Readiness } from './http/health-route.ts';
import { eventsRoute } from './modules/events/events-route.ts';
import { leadsRoute } from './modules/leads/leads-route.ts';
import type { EmailSources } from './modules/delivery/email-source.ts';
import { EMAIL_SOURCES } from './modules/delivery/email-sources.ts';
import type { EmailTransport } from './modules/delivery/email-transport.ts';
import { OutboxTransport } from './modules/delivery/outbox-transport.ts';
import { RateLimitedTransport } from './modules/delivery/rate-limited-transport.ts';
import { RateLimiter } from './modules/delivery/rate-limiter.ts';
import { ResendTransport } from './modules/delivery/resend-transport.ts';
import { resendWebhookRoute } from './modules/resend-webhooks/resend-webhook-route.ts';
import { unsubscribeRoutes } from './modules/unsubscribes/unsubscribe-routes.ts';
import { trackingRoutes } from './modules/tracking/tracking-routes.ts';
import { TrackingWriter } from './modules/tracking/tracking-writer.ts';
import { siteRoutes } from './modules/tracking/site-routes.ts';
import { SiteVisitWriter } from './modules/tracking/site-visit-writer.ts';
import { enqueueTrackedScoring } from './modules/scoring/score-events-queue.ts';
import { createHttpServer, type Route } from './http/server.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import type { Logger } from './lib/logger.ts';
import { QUEUES } from './queue/queues.ts';
import { startQueueSystem } from './queue/queue-system.ts';
import type { Services } from './services.ts';
import { boltLogger } from './slack/bolt-logger.ts';
import { createSlackApp, SLACK_EVENTS_PATH } from './slack/create-slack-app.ts';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export interface NurtureOptions {
  logger: Logger;
  /** Overrides for the Slack Web API clients (tests: no retries). */
  slackClientOptions?: WebClientOptions;
  /** Replaces the transport built from config (tests: Resend pointed at a fake). */
  emailTransport?: EmailTransport;
  /** Replaces the registered kinds of email (tests of the pipeline itself). */
  emailSources?: EmailSources;
  /** Replaces the system clock (tests run journeys of weeks on a clock they move). */
  clock?: Clock;
}

export interface Nurture {
  readonly port: number;
  readonly services: Services;
  /** Stores open and click events (web roles only). */
  readonly tracking?: TrackingWriter;
  /** Stores the site snippet's page views and reads (web roles only). */
  readonly siteVisits?: SiteVisitWriter;
  /** Graceful: stop taking requests, let running jobs finish, close pools, stop the embedded Postgres. */
  stop(): Promise<void>;
}

/**
 * Starts everything this process's role needs, in dependency order: database → migrations →
 * queues → Slack → HTTP → workers. The HTTP server listens last, so /healthz answers 200 only
 * once the rest is ready.
 */
export async function startNurture(config: Config, options: NurtureOptions): Promise<Nurture> {
  const { logger } = options;
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error) => logger.error({ err: error }, 'error during shutdown'));
    }
  };

  try {
    const database = await openDatabase(config.database, logger);
    cleanups.push(() => database.stop());
    const sql = createSql(database.url, logger, { applicationName: `nurture-${config.role}` });
    cleanups.push(() => sql.end({ timeout: 5 }));
    await runMigrations(sql, logger);

    const queues = await startQueueSystem({ url: database.url, logger, role: config.role, queues: QUEUES });
    cleanups.push(() => queues.stop());

    const clientOptions: WebClientOptions = {
      slackApiUrl: config.slack.apiUrl,
      logger: boltLogger(logger),
      // The default policy retries for ~30 minutes; a person is waiting, so give up within minutes.
      retryConfig: retryPolicies.fiveRetriesInFiveMinutes,
      ...options.slackClientOptions,
    };
    const slack = new WebClient(config.slack.botToken, clientOptions);
    // One request budget for every email, whoever sends it: the limiter is shared through Postgres.
    const limiter = new RateLimiter(sql, { name: 'resend', requestsPerSecond: config.resend.requestsPerSecond });
    const email = new RateLimitedTransport(options.emailTransport ?? createEmailTransport(config, sql, logger), limiter);
    const services: Services = { config, clock: options.clock ?? systemClock, logger, sql, slack, enqueue: queues.enqueue, email, emailSources: options.emailSources ?? EMAIL_SOURCES };

    const readiness: Readiness = { ready: false };
    const servesWeb = config.role !== 'worker';
    // Stopped after the HTTP server (cleanups run in reverse): every answered open and click is flushed before the pool closes.
    const tracking = servesWeb
      ? new TrackingWriter(sql, services.emailSources, logger, { onStored: (teamId, events) => enqueueTrackedScoring(services, teamId, events) })
      : undefined;
    if (tracking) cleanups.push(() => tracking.stop());
    const siteVisits = servesWeb ? new SiteVisitWriter(sql, logger, { onStored: (teamId, events) => enqueueTrackedScoring(services, teamId, events) }) : undefined;
    if (siteVisits) cleanups.push(() => siteVisits.stop());
    const routes: Route[] = [
      healthRoute({ sql, queues, role: config.role, readiness, version: VERSION }),
      ...(servesWeb ? [leadsRoute(services), eventsRoute(services), ...unsubscribeRoutes(services), ...trackingRoutes(services, tracking!), ...siteRoutes(services, siteVisits!), resendWebhookRoute(services)] : []),
    ];
    const slackApp = servesWeb ? createSlackApp(config, services, clientOptions) : undefined;
    if (slackApp) {
      await slackApp.start();
      cleanups.push(() => slackApp.stop());
    }
    const http = createHttpServer(
      routes,
      logger,
      slackApp?.requestListener ? { path: SLACK_EVENTS_PATH, listener: slackApp.requestListener } : undefined,
    );
    const port = await http.listen(config.port);
    cleanups.push(async () => {
      readiness.ready = false;
      await http.close();
    });

    if (config.role !== 'web') await queues.startWorkers(services);
    readiness.ready = true;
    logger.info(
      { port, role: config.role, slack: servesWeb ? (config.slack.appToken ? 'socket-mode' : 'http') : 'off', email: email.name, version: VERSION },
      'nurture is ready',
    );

    let stopping: Promise<void> | undefined;
    return { port, services, ...(tracking ? { tracking } : {}), ...(siteVisits ? { siteVisits } : {}), stop: () => (stopping ??= stopAll()) };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Resend when a key is set; otherwise the outbox table, said loudly so nobody waits for emails that never leave. */
function createEmailTransport(config: Config, sql: Sql, logger: Logger): EmailTransport {
  if (config.resend.apiKey) return new ResendTransport({ apiKey: config.resend.apiKey });
  logger.warn(
    { email: 'outbox' },
    'RESEND_API_KEY is not set: emails are NOT sent to anyone. Every email Nurture would send is recorded in the outbox_emails table instead. Set RESEND_API_KEY to send for real.',
  );
  return new OutboxTransport(sql);
}
