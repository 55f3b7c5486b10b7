/** A Kubernetes metav1.Status as the apiserver returns it on failure. */
export interface ApiStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: { message?: string; field?: string }[] };
}

/** A failed API request: HTTP status code, apiserver reason and message. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: ApiStatus;

  constructor(code: number, status: ApiStatus, request: string) {
    super(
      `${request}: ${code} ${status.reason ?? 'Error'}: ${status.message ?? 'no message from the apiserver'}`,
    );
    this.name = new.target.name;
    this.code = code;
    this.reason = status.reason ?? '';
    this.status = status;
  }
}

export class NotFoundError extends ApiError {}
/** 409: a precondition (resourceVersion) failed or the object already exists (see isAlreadyExists). */
export class ConflictError extends ApiError {}
/** 410: the resourceVersion asked for has been compacted away; relist. */
export class GoneError extends ApiError {}
export class TooManyRequestsError extends ApiError {
  /** From the Retry-After header, when present. */
  retryAfterSeconds: number | undefined;
}
export class ForbiddenError extends ApiError {}
/** 422: the object failed validation; `status.details.causes` says which fields. */
export class InvalidError extends ApiError {}

/** Maps an HTTP failure to the typed error for its status code. */
export function apiErrorFrom(code: number, body: unknown, request: string, retryAfter?: string): ApiError {
  const status: ApiStatus =
    body && typeof body === 'object'
      ? (body as ApiStatus)
      : { message: typeof body === 'string' ? body : undefined };
  switch (code) {
    case 404:
      return new NotFoundError(code, status, request);
    case 409:
      return new ConflictError(code, status, request);
    case 410:
      return new GoneError(code, status, request);
    case 429: {
      const error = new TooManyRequestsError(code, status, request);
      const seconds = retryAfter === undefined ? NaN : Number(retryAfter);
      error.retryAfterSeconds = Number.isFinite(seconds) ? seconds : undefined;
      return error;
    }
    case 403:
      return new ForbiddenError(code, status, request);
    case 422:
      return new InvalidError(code, status, request);
    default:
      return new ApiError(code, status, request);
  }
}

export const isNotFound = (e: unknown): e is NotFoundError => e instanceof NotFoundError;
export const isConflict = (e: unknown): e is ConflictError => e instanceof ConflictError;
export const isAlreadyExists = (e: unknown): e is ConflictError =>
  e instanceof ConflictError && e.reason === 'AlreadyExists';
export const isGone = (e: unknown): e is GoneError => e instanceof GoneError;
