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
  return postgres(url, {
    max: options.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    connection: { application_name: options.applicationName ?? 'nurture' },
    types: { bigint: bigintAsNumber },
    onnotice: (notice) => logger.debug({ notice: notice.message }, 'postgres notice'),
  });
}

const bigintAsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number | bigint) => String(value),
  parse: (value: string) => Number(value),
};
