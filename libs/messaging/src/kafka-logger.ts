import { logCreator, logLevel } from 'kafkajs';

/**
 * Error responses kafkajs retries by itself and reports anyway: rebalances (every member join makes the others
 * rejoin) and a fresh broker or topic still electing its coordinator or leaders. If retries run out, the operation
 * fails and its caller sees the error.
 */
const ROUTINE = [/rebalancing/i, /coordinator is loading/i, /coordinator is not available/i, /not the leader/i, /no leader/i, /leader not available/i];

/** kafkajs logs every connect and join at INFO; the bus keeps WARN and ERROR, one line each. */
export const KAFKA_LOG_LEVEL = logLevel.WARN;

export const kafkaLogCreator: logCreator = () => (entry) => {
  const { message, timestamp: _timestamp, logger: _logger, ...details } = entry.log;
  const error = typeof details.error === 'string' ? details.error : '';
  if (ROUTINE.some((pattern) => pattern.test(message) || pattern.test(error))) return;
  const line = `[kafka] ${entry.namespace}: ${message}`;
  const write = entry.level === logLevel.ERROR ? console.error : console.warn;
  if (Object.keys(details).length > 0) write(line, JSON.stringify(details));
  else write(line);
};
