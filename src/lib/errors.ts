/**
 * Errors whose message is written for the person who caused them. The edges (Slack listeners,
 * HTTP routes) show `message` as it is; anything else is unexpected and gets a reference id.
 */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}

/** The person lacks the role for what they asked. */
export class PermissionDeniedError extends UserFacingError {
  override name = 'PermissionDeniedError';
}

/** The command or form was not understood; the message says what was expected. */
export class UsageError extends UserFacingError {
  override name = 'UsageError';
}
