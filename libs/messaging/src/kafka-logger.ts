import { logCreator, logLevel } from 'kafkajs';

/** What kafkajs reports during normal operation: every member join makes the others rejoin. */
const ROUTINE = [/rebalancing/i];

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
