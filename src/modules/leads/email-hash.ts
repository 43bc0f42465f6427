import { createHmac } from 'node:crypto';

/**
 * What remains of an erased address: an HMAC keyed by TRACKING_SECRET, so a leaked database does not
 * let anyone test guesses against it. (Rotating TRACKING_SECRET forgets these too: see README.)
 */
export function hashEmail(secret: string, email: string): Buffer {
  return createHmac('sha256', secret).update(`forgotten-email:${email.trim().toLowerCase()}`).digest();
}
