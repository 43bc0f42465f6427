import { apikeySubcommand } from '../modules/api-keys/apikey-subcommand.ts';
import { helpSubcommand } from '../modules/help/help-subcommand.ts';
import { importSubcommand } from '../modules/imports/import-subcommand.ts';
import { forgetSubcommand } from '../modules/leads/forget-subcommand.ts';
import { newsletterSubcommand } from '../modules/newsletters/newsletter-subcommand.ts';
import { leadSubcommand } from '../modules/leads/lead-subcommand.ts';
import { rolesSubcommand } from '../modules/roles/roles-subcommand.ts';
import { segmentSubcommand } from '../modules/segments/segment-subcommand.ts';
import { sequenceSubcommand } from '../modules/sequences/sequence-subcommand.ts';
import { templateSubcommand } from '../modules/templates/template-subcommand.ts';
import { settingsSubcommand } from '../modules/settings/settings-subcommand.ts';
import { scoringSubcommand } from '../modules/scoring/scoring-subcommand.ts';
import { alertsSubcommand } from '../modules/alerts/alerts-subcommand.ts';
import { siteSubcommand } from '../modules/tracking/site-subcommand.ts';
import type { Subcommand } from './subcommand.ts';

/** Every `/nurture` subcommand, in the order `/nurture help` lists them. */
export const SUBCOMMANDS: readonly Subcommand[] = [
  helpSubcommand,
  leadSubcommand,
  forgetSubcommand,
  segmentSubcommand,
  templateSubcommand,
  importSubcommand,
  apikeySubcommand,
  rolesSubcommand,
  newsletterSubcommand,
  sequenceSubcommand,
  settingsSubcommand,
  scoringSubcommand,
  alertsSubcommand,
  siteSubcommand,
];
