import { ApiException } from '@chatfn/platform';

/** A path id: a positive integer (else 400 naming the field); an id of no resource is the caller's 404. */
export function idParam(value: string, field = 'id'): number {
  if (!/^\d{1,15}$/.test(value) || Number(value) <= 0) {
    throw ApiException.badRequest(`${field}: must be a positive integer, got ${JSON.stringify(value)}`, {
      errors: [{ field, message: 'must be a positive integer' }],
    });
  }
  return Number(value);
}

/** A secret name: 1-128 chars of letters, digits, `_ - .`. */
export function secretName(value: string): string {
  if (!/^[\w.-]{1,128}$/.test(value)) {
    throw ApiException.badRequest('name: must be 1-128 letters, digits, _ - or .', { errors: [{ field: 'name', message: 'invalid secret name' }] });
  }
  return value;
}
