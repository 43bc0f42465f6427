// Starts an embedded Postgres in the folder given as argv[2], prints its pid line, then waits to be killed.
// Used to leave an orphaned Postgres behind, as a SIGKILLed Nurture would.
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { createLogger } from '../../src/lib/logger.ts';

const server = await startEmbeddedPostgres({ dataDir: process.argv[2]!, logger: createLogger('silent'), ephemeral: true });
process.stdout.write(`ready ${server.port}\n`);
setInterval(() => {}, 60_000);
