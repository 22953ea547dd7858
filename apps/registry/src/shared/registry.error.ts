/** Domain errors of the registry; `RegistryErrorFilter`-style mapping to HTTP lives in `toApiException`. */
export enum RegistryErrorCode {
  FUNCTION_NOT_FOUND = 'FUNCTION_NOT_FOUND',
  FUNCTION_ALREADY_EXISTS = 'FUNCTION_ALREADY_EXISTS',
  VERSION_NOT_FOUND = 'VERSION_NOT_FOUND',
  ALREADY_CURRENT_VERSION = 'ALREADY_CURRENT_VERSION',
  INVOCATION_NOT_FOUND = 'INVOCATION_NOT_FOUND',
  NOT_DEAD_LETTERED = 'NOT_DEAD_LETTERED',
  RUNTIME_NOT_FOUND = 'RUNTIME_NOT_FOUND',
  RUNTIME_ALREADY_EXISTS = 'RUNTIME_ALREADY_EXISTS',
  INVALID_INPUT = 'INVALID_INPUT',
  CONFLICT = 'CONFLICT',
}

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly properties?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}
