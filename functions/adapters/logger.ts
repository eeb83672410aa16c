/**
 * The structured logger every function uses: one JSON line per entry on stdout, with the
 * level, the service, the Lambda request id and cold-start flag, and a replacer that blanks
 * any attribute whose name speaks of a password or token — a second line of defence behind
 * the rule that no code logs one.
 *
 * Hand-written rather than Powertools' Logger: with its commons and invoke store it added
 * ~23 KB and ~2 ms of cold start to every function, and rekey uses none of its sampling,
 * buffering or child loggers. The field names follow Powertools', so log queries carry over.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Log } from '#core/ports.ts';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 };
const SENSITIVE_KEY = /pass(word)?|secret_?string|authorization|token/i;
// Lambda's own context fields, which an attribute must not overwrite.
const RESERVED = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_name',
  'function_request_id',
  'xray_trace_id',
]);

export interface LoggerOptions {
  serviceName: string;
  /** Default: POWERTOOLS_LOG_LEVEL, LOG_LEVEL or AWS_LAMBDA_LOG_LEVEL, else INFO. */
  logLevel?: LogLevel;
  /** Where lines go; default process.stdout. */
  write?: (line: string) => void;
}

export class Logger {
  private readonly serviceName: string;
  private readonly threshold: number;
  private readonly write: (line: string) => void;
  private context: { function_name: string; function_request_id: string; cold_start: boolean } | undefined;
  private coldStart = true;

  constructor(options: LoggerOptions) {
    this.serviceName = options.serviceName;
    this.threshold = RANK[options.logLevel ?? levelFromEnv()];
    this.write = options.write ?? ((line) => process.stdout.write(line));
  }

  /** Tags the following lines with this invocation (and whether it is the container's first). */
  addContext(context: Pick<Context, 'functionName' | 'awsRequestId'>): void {
    this.context = {
      function_name: context.functionName,
      function_request_id: context.awsRequestId,
      cold_start: this.coldStart,
    };
    this.coldStart = false;
  }

  clearContext(): void {
    this.context = undefined;
  }

  debug(message: string, attributes?: Record<string, unknown>): void {
    this.log('DEBUG', message, attributes);
  }

  info(message: string, attributes?: Record<string, unknown>): void {
    this.log('INFO', message, attributes);
  }

  warn(message: string, attributes?: Record<string, unknown>): void {
    this.log('WARN', message, attributes);
  }

  error(message: string, attributes?: Record<string, unknown>): void {
    this.log('ERROR', message, attributes);
  }

  private log(
    level: Exclude<LogLevel, 'SILENT'>,
    message: string,
    attributes: Record<string, unknown> = {},
  ): void {
    if (RANK[level] < this.threshold) return;
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(attributes)) if (!RESERVED.has(key)) extra[key] = value;
    const trace = process.env._X_AMZN_TRACE_ID?.match(/Root=([^;]+)/)?.[1];
    const entry = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.serviceName,
      ...this.context,
      ...(trace ? { xray_trace_id: trace } : {}),
      ...extra,
    };
    this.write(`${JSON.stringify(entry, redact)}\n`);
  }
}

function redact(key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name };
  return key !== '' && SENSITIVE_KEY.test(key) && typeof value === 'string' ? '[redacted]' : value;
}

function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const raw = (env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL || env.AWS_LAMBDA_LOG_LEVEL || 'INFO').toUpperCase();
  const level = raw === 'FATAL' ? 'ERROR' : raw === 'TRACE' ? 'DEBUG' : raw;
  return level in RANK ? (level as LogLevel) : 'INFO';
}

/** A logger for one service (function). */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** Middy middleware: tag each invocation's lines with its Lambda context, and untag after. */
export function lambdaContextLogging<E, R>(logger: Logger): MiddlewareObj<E, R> {
  return {
    before: (request) => logger.addContext(request.context),
    after: () => logger.clearContext(),
    onError: () => logger.clearContext(),
  };
}

/** The core's Log port over the logger. */
export function asLog(logger: Logger): Log {
  return {
    info: (message, attributes) => logger.info(message, attributes),
    warn: (message, attributes) => logger.warn(message, attributes),
  };
}
