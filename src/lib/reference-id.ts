import { randomBytes } from 'node:crypto';

/**
 * A short id shown to a person next to an error and written to the log line with the details,
 * so support can find one from the other. Crockford base32: no 0/O or 1/I confusion when read aloud.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newReferenceId(length = 8): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % 32];
  return id;
}
