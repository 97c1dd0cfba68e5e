import { RequestValidationError } from '@ts-rest/fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodError } from 'zod';
import { AppError } from '../errors/app-error.js';
import { toAppError } from './error-catalogue.js';

interface Issue {
  field: string;
  message: string;
}

function zodIssues(location: string, error: ZodError | null): Issue[] {
  if (!error) return [];
  return error.issues.map((issue) => {
    const path = issue.path.join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    return { field: path ? `${location}.${path}` : location, message };
  });
}

/** Turns a ts-rest validation failure into a 400 whose message names the failing field(s). */
export function validationError(error: RequestValidationError): AppError {
  const issues = [
    ...zodIssues('path', error.pathParams),
    ...zodIssues('header', error.headers),
    ...zodIssues('query', error.query),
    ...zodIssues('body', error.body),
  ];
  const message = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  return new AppError('invalid_request', message || 'invalid request', { issues });
}

/** Maps fastify's own errors (body parsing, limits, content types) to coded errors. */
function fastifyError(error: FastifyError, bodyLimit: number): AppError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', `request body exceeds ${bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'unsupported content type: send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_request', 'body: empty JSON body');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_request', `body: not valid JSON (${error.message})`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_request', 'content-length does not match the body');
    default:
      break;
  }
  if (error instanceof SyntaxError)
    return new AppError('invalid_request', `body: not valid JSON (${error.message})`);
  if (error.statusCode === 413)
    return new AppError('payload_too_large', `request body exceeds ${bodyLimit} bytes`);
  if (error.statusCode === 415) return new AppError('unsupported_media_type', error.message);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('invalid_request', error.message);
  }
  return undefined;
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.status(error.status).type('application/json').send(error.body());
}

/**
 * The one place errors become responses. Known errors keep their code; anything
 * else is a 500 whose body names the request id and never carries a stack.
 */
export function installErrorHandler(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((raw: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let error = toAppError(raw);
    if (!error && raw instanceof RequestValidationError) error = validationError(raw);
    else if (!error && raw && typeof raw === 'object' && 'code' in raw)
      error = fastifyError(raw as FastifyError, bodyLimit);
    if (!error) {
      request.log.error({ type: 'internal_error', err: raw, req_id: request.id }, 'unhandled error');
      error = new AppError('internal', `internal error (request id ${request.id})`);
    } else if (error.status >= 500) {
      request.log.warn({ type: 'request_failed', code: error.code, msg: error.message }, 'request failed');
    }
    return sendError(reply, error);
  });
}

export function installNotFoundHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new AppError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
