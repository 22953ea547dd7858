import { UploadedFileData } from '../files/uploaded-file';
import { ApiException, findUnstorable } from '@chatfn/platform';

export const IMPORT_MAX_FILE_BYTES = 50 * 1024 * 1024;
export const IMPORT_MAX_ITEMS = 100_000;

/** The uploaded import file: a JSON array of objects whose text PostgreSQL can store (else 400 naming `file` and the first bad item). */
export function parseImportFile(file: UploadedFileData | undefined): unknown[] {
  if (!file) throw ApiException.badRequest('file: is required (multipart/form-data field "file")', { errors: [{ field: 'file', message: 'is required' }] });
  let parsed: unknown;
  try {
    parsed = JSON.parse(file.buffer.toString('utf8'));
  } catch (e) {
    throw ApiException.badRequest(`file: is not valid JSON (${(e as Error).message})`, { errors: [{ field: 'file', message: 'invalid JSON' }] });
  }
  if (!Array.isArray(parsed)) {
    throw ApiException.badRequest('file: must be a JSON array', { errors: [{ field: 'file', message: 'must be a JSON array' }] });
  }
  if (parsed.length > IMPORT_MAX_ITEMS) {
    throw ApiException.badRequest(`file: at most ${IMPORT_MAX_ITEMS} items per import`, { errors: [{ field: 'file', message: 'too many items' }] });
  }
  const bad = parsed.findIndex((item) => item === null || typeof item !== 'object' || Array.isArray(item));
  if (bad >= 0) {
    const message = `item ${bad} must be a JSON object, got ${parsed[bad] === null ? 'null' : Array.isArray(parsed[bad]) ? 'an array' : typeof parsed[bad]}`;
    throw ApiException.badRequest(`file: ${message}`, { errors: [{ field: `file[${bad}]`, message }] });
  }
  // The job keeps the file in PostgreSQL, which stores no NUL character or unpaired surrogate: name the first one.
  for (let i = 0; i < parsed.length; i++) {
    const where = findUnstorable(parsed[i]);
    if (where !== undefined) {
      const message = `item ${i} ${where}: must not contain NUL characters or unpaired UTF-16 surrogates`;
      throw ApiException.badRequest(`file: ${message}`, { errors: [{ field: `file[${i}].${where}`, message }] });
    }
  }
  return parsed;
}
