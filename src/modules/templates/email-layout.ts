import { escapeHtml } from '../../lib/escape-html.ts';
import type { EmailFooter } from './template.ts';

/**
 * The frame around every email's body: one centred column at most 600px wide, a system font stack,
 * the preheader as hidden first text (mail clients show it after the subject), and the footer the law
 * asks for (who sends, their postal address, a way to unsubscribe). Email clients drop much of <style>
 * (Gmail keeps it, Outlook on Windows renders with Word), so the layout uses tables and inline styles
 * for what matters and <style> only for niceties and narrow screens.
 */

const FONT_STACK = `-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Hiragino Sans', 'Hiragino Kaku Gothic ProN', Meiryo, sans-serif`;

const STYLE = `
body { margin: 0; padding: 0; width: 100% !important; -webkit-text-size-adjust: 100%; -ms-text-size-adjust: 100%; }
table { border-collapse: collapse; }
img { border: 0; max-width: 100%; height: auto; }
a { color: #1d4ed8; }
.content table { width: 100%; margin: 0 0 16px; }
.content th, .content td { padding: 6px 8px; border: 1px solid #e5e7eb; text-align: left; }
.content code { font-family: Menlo, Consolas, monospace; font-size: 14px; background: #f3f4f6; padding: 1px 4px; border-radius: 3px; }
.content pre { white-space: pre-wrap; background: #f3f4f6; padding: 12px; border-radius: 4px; }
@media only screen and (max-width: 620px) {
  .outer { padding: 0 !important; }
  .content { padding: 24px 20px !important; }
  .footer { padding: 20px !important; }
}`.trim();

/** Keeps clients from filling the preview after a short preheader with the body's first words. */
const PREHEADER_PADDING = '&zwnj;&nbsp;'.repeat(40);

const HEAD_START = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="x-apple-disable-message-reformatting"><meta name="color-scheme" content="light"><meta name="supported-color-schemes" content="light"><title>`;
const HEAD_END = `</title><style>${STYLE}</style></head>
<body style="margin:0;padding:0;background-color:#f3f4f6;">
`;
const PREHEADER_START = `<div style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;">`;
const PREHEADER_END = `${PREHEADER_PADDING}</div>\n`;
const FRAME_START = `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;"><tr><td class="outer" align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;width:100%;">
<tr><td class="content" style="background-color:#ffffff;border-radius:8px;padding:32px;font-family:${FONT_STACK};font-size:16px;line-height:1.6;color:#1f2937;text-align:left;">
`;
const FOOTER_START = `
</td></tr>
<tr><td class="footer" style="padding:24px 32px;font-family:${FONT_STACK};font-size:12px;line-height:1.5;color:#6b7280;text-align:center;">
`;
const FRAME_END = `
</td></tr>
</table>
</td></tr></table>
</body></html>
`;

export interface EmailParts {
  subject: string;
  preheader: string;
  /** The rendered body, already HTML. */
  bodyHtml: string;
  footer: EmailFooter;
  /** Open and click tracking: the pixel and the hidden link go at the end of the body. */
  tracking?: { pixelUrl: string; hiddenLinkUrl: string };
}

/** The whole HTML part. Subject, preheader and footer are text here and escaped; the body is HTML. */
export function htmlEmail({ subject, preheader, bodyHtml, footer, tracking }: EmailParts): string {
  return (
    HEAD_START +
    escapeHtml(subject) +
    HEAD_END +
    (preheader === '' ? '' : PREHEADER_START + escapeHtml(preheader) + PREHEADER_END) +
    FRAME_START +
    bodyHtml +
    FOOTER_START +
    htmlFooter(footer) +
    (tracking ? trackingHtml(tracking) : '') +
    FRAME_END
  );
}

function htmlFooter(footer: EmailFooter): string {
  const sender = escapeHtml(footer.senderName);
  const address = escapeHtml(footer.postalAddress).replace(/\r?\n/g, '<br>');
  return (
    `<p style="margin:0 0 8px;">${sender}<br>${address}</p>\n` +
    `<p style="margin:0;">You receive this email because you are in touch with ${sender}. ` +
    `<a href="${escapeHtml(footer.unsubscribeUrl)}" style="color:#6b7280;text-decoration:underline;">Unsubscribe</a></p>`
  );
}

/**
 * The open pixel, and a link without text that no person sees or can tab to: security scanners follow
 * every address in an email, so a click on it is a machine's (tracking marks it, reason "hidden link").
 */
function trackingHtml(tracking: { pixelUrl: string; hiddenLinkUrl: string }): string {
  return (
    `\n<a href="${escapeHtml(tracking.hiddenLinkUrl)}" style="display:none;font-size:0;line-height:0;max-height:0;overflow:hidden;mso-hide:all;" aria-hidden="true" tabindex="-1"></a>` +
    `<img src="${escapeHtml(tracking.pixelUrl)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0;">`
  );
}

/** The text part: the body, then the same footer in text. */
export function textEmail(bodyText: string, footer: EmailFooter): string {
  return `${bodyText}\n\n-- \n${footer.senderName}\n${footer.postalAddress}\nUnsubscribe: ${footer.unsubscribeUrl}\n`;
}
