// Where the logs go and in which shape: JSON lines for machines (a log collector, a file, a pipe), or
// pino-pretty's coloured, aligned lines for a person at a terminal. The shape changes after redaction and
// serialization (pino does both before writing): a pretty line carries no more than a JSON one.
import type { DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat } from '../config.ts';

/** JSON unless asked otherwise, or when `auto` and the logs go to a terminal. */
export function resolvedLogFormat(format: LogFormat, toTerminal: boolean): 'json' | 'pretty' {
  if (format === 'auto') return toTerminal ? 'pretty' : 'json';
  return format;
}

/**
 * The stream pino writes to: `stream` (standard output by default) as it is for JSON, or each line made
 * pretty by pino-pretty in this thread, as it is written (nothing lost on exit, no worker to start).
 */
export function logDestination(format: 'json' | 'pretty', stream?: DestinationStream): DestinationStream | undefined {
  if (format === 'json') return stream;
  const pretty = prettyFactory({
    colorize: stream === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  const out = stream ?? process.stdout;
  return { write: (line: string) => void out.write(pretty(line)) };
}
