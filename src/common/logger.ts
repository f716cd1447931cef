/**
 * The logger every layer may receive: structured events (a bindings object, then a
 * short message) at four levels, and `child` to attach fields such as a request id or
 * shard id to every later line. The composition root passes a pino logger (src/logger.ts),
 * which satisfies this interface structurally; nothing below it imports pino.
 *
 * Rule for callers: bindings carry ids, counts, codes and durations, never message
 * bodies, queue metadata or secrets (they may hold user data).
 */
export type LogBindings = Readonly<Record<string, unknown>>;

export type LogFn = (bindings: LogBindings, message: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: LogBindings): Logger;
}

const ignore: LogFn = () => undefined;

/** Drops everything: unit tests and embedders that do not log. */
export const silentLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => silentLogger,
};
