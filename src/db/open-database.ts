import postgres from 'postgres';
import type { Config } from '../config.ts';
import type { Logger } from '../lib/logger.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export interface Database {
  /** Where the app's data lives. */
  readonly url: string;
  /** Stops the embedded server, if we started one. */
  stop(): Promise<void>;
}

const EMBEDDED_DATABASE = 'nurture';

/** DATABASE_URL when given; otherwise an embedded Postgres under DATA_DIR that keeps its data across restarts. */
export async function openDatabase(config: Config['database'], logger: Logger): Promise<Database> {
  if (config.url) return { url: config.url, stop: async () => {} };
  const server = await startEmbeddedPostgres({ dataDir: config.dataDir, logger });
  try {
    const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
    const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${EMBEDDED_DATABASE}`;
    if (!exists) await admin.unsafe(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
    await admin.end();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: server.urlFor(EMBEDDED_DATABASE), stop: () => server.stop() };
}
