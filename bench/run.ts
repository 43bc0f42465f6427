// `npm run bench`: runs every benchmark in bench/ and prints its figures. Not part of CI.
// Record the latest figures, with the machine they ran on, in bench/README.md.
import { benchAlerts } from './alerts.ts';
import { benchCsvImport } from './csv-import.ts';
import { benchDelivery } from './delivery.ts';
import { benchLeadIngest } from './lead-ingest.ts';
import { benchSegments } from './segments.ts';
import { benchSequences } from './sequences.ts';
import { benchStartup } from './startup.ts';
import { benchTracking } from './tracking.ts';

const benches: Record<string, () => Promise<void>> = {
  startup: benchStartup,
  'lead-ingest': benchLeadIngest,
  'csv-import': benchCsvImport,
  segments: benchSegments,
  delivery: benchDelivery,
  sequences: benchSequences,
  tracking: benchTracking,
  alerts: benchAlerts,
};
const only = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n## ${name}`);
  await run();
}
