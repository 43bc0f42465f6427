import type { Config } from '../../config.ts';
import type { WorkspaceSettings } from '../workspaces/settings.ts';

export interface EmailSender {
  /** Shown as the From name and in the footer. */
  name: string;
  /** The From header: `Name <address>` on EMAIL_FROM's verified address. */
  from: string;
}

const DEFAULT_SENDER_NAME = 'Nurture';

/**
 * Who an email of this workspace comes from: the workspace's sender name, else the name in EMAIL_FROM,
 * else "Nurture"; always at EMAIL_FROM's address (the domain verified in Resend).
 */
export function emailSender(config: Pick<Config, 'resend'>, settings: Pick<WorkspaceSettings, 'senderName'>): EmailSender {
  const configured = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(config.resend.from);
  const address = (configured?.[2] ?? config.resend.from).trim();
  const configuredName = configured?.[1]?.replace(/^"(.*)"$/, '$1').trim();
  const name = settings.senderName?.trim() || configuredName || DEFAULT_SENDER_NAME;
  return { name, from: `${displayName(name)} <${address}>` };
}

/** RFC 5322: a display name with specials (`,` `"` `<` …) must be a quoted string. */
function displayName(name: string): string {
  const oneLine = name.replace(/[\r\n]+/g, ' ');
  return /^[\p{L}\p{N} !#$%&'*+\-/=?^_`{|}~]*$/u.test(oneLine) ? oneLine : `"${oneLine.replace(/["\\]/g, '\\$&')}"`;
}
