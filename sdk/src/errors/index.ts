export { ConflictError } from './conflict-error.js';
export { errorFromResponse, parseRetryAfter } from './error-from-response.js';
export {
  FastpacaError,
  type FastpacaErrorCode,
  type FastpacaErrorOptions,
  isRetryableStatus,
} from './fastpaca-error.js';
export { ForbiddenError } from './forbidden-error.js';
export { NetworkError } from './network-error.js';
export { NotFoundError } from './not-found-error.js';
export { RateLimitedError } from './rate-limited-error.js';
export { UnauthorizedError } from './unauthorized-error.js';
export { UnavailableError } from './unavailable-error.js';
