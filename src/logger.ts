/**
 * The node's logger: pino writing one JSON object per line to stdout (or a given
 * destination), the only module that imports pino. Lines carry `level` as a name
 * (`"info"`, not 30) and an ISO `time`, so they read well in `kubectl logs` and parse
 * without pino's level table. Errors logged under `err` are serialised with their
 * message, stack and cause chain.
 */
import pino from 'pino';
import type { Logger } from './common/logger.js';

export const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; a file descriptor (1 = stdout, 2 = stderr). Default 1. */
  readonly fd?: number;
}

export function createLogger(options: LoggerOptions): Logger {
  // Synchronous writes: a line logged just before exit (a fatal config error, the last
  // drain step) is never lost in a buffer.
  const destination = pino.destination({ fd: options.fd ?? 1, sync: true });
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    destination,
  );
}
