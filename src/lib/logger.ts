import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.ts';

export type { Logger };

/**
 * Structured JSON logs. Secrets and message bodies never belong in a log line: redact the usual
 * suspects in case a library error object carries them.
 */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { app: 'nurture', pid: process.pid },
      redact: {
        paths: [
          'token',
          '*.token',
          'password',
          '*.password',
          'authorization',
          '*.authorization',
          'headers.authorization',
          '*.headers.authorization',
          'config.headers.Authorization',
          'html',
          '*.html',
          'body',
          '*.body',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}
