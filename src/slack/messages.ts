/** Text people see when something fails. Tests assert on these. */

export const unexpectedErrorText = (referenceId: string) =>
  `:warning: Sorry, something went wrong on our side and nothing was changed. If it happens again, give your admin this reference: *${referenceId}*.`;

export const unknownSubcommandText = (given: string, suggestion?: string) =>
  `I don't know \`/nurture ${given}\`.${suggestion ? ` Did you mean \`/nurture ${suggestion}\`?` : ''} Type \`/nurture help\` to see everything I can do.`;
