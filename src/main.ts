import { ConfigError, loadConfig } from './config.ts';
import { EmbeddedPostgresError } from './db/embedded-postgres.ts';
import { MigrationError } from './db/migrate.ts';
import { createLogger } from './lib/logger.ts';
import { startNurture } from './nurture.ts';

/** Composition root: config → start → stop on SIGINT/SIGTERM. Everything else lives in nurture.ts. */
let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78); // EX_CONFIG
}

const logger = createLogger(config.logLevel);
try {
  const nurture = await startNurture(config, { logger });
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    logger.info({ signal }, 'shutting down');
    nurture.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (error) {
  if (error instanceof EmbeddedPostgresError || error instanceof MigrationError) {
    logger.fatal(error.message);
    process.stderr.write(`\n${error.message}\n`);
  } else {
    logger.fatal({ err: error }, 'nurture could not start');
  }
  process.exit(1);
}
