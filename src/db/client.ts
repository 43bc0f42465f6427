import postgres from 'postgres';
import type { Logger } from '../lib/logger.ts';

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;
/** What query functions take: the pool or an open transaction, so callers decide what runs atomically. */
export type Queryable = Sql | TransactionSql;

export interface SqlOptions {
  max?: number;
  applicationName?: string;
}

/** The one postgres.js client of a process. bigint comes back as a JS number: our ids and counts stay far below 2^53. */
export function createSql(url: string, logger: Logger, options: SqlOptions = {}): Sql {
  const socket = unixSocketOf(url);
  return postgres(socket?.url ?? url, {
    ...(socket ? { host: socket.dir } : {}),
    max: options.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    connection: { application_name: options.applicationName ?? 'nurture' },
    types: { bigint: bigintAsNumber },
    onnotice: (notice) => logger.debug({ notice: notice.message }, 'postgres notice'),
  });
}

/**
 * libpq's way to name a Unix socket folder, `postgres://user@localhost:5432/db?host=/run/postgresql`
 * (pg-boss's driver reads it too). postgres.js takes the folder as its `host` option instead, and would
 * send the parameter to the server as a setting, so it is moved out of the URL.
 */
function unixSocketOf(url: string): { url: string; dir: string } | undefined {
  const parsed = new URL(url);
  const dir = parsed.searchParams.get('host');
  if (!dir?.startsWith('/')) return undefined;
  parsed.searchParams.delete('host');
  return { url: parsed.toString(), dir };
}

const bigintAsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number | bigint) => String(value),
  parse: (value: string) => Number(value),
};
