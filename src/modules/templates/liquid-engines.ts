import { Liquid, type LiquidOptions } from 'liquidjs';

/**
 * The two Liquid engines every template is parsed with. Both refuse unknown filters at parse time
 * (strictFilters), read only a lead's own properties (ownPropertyOnly: `first_name.constructor` is
 * nothing), and bound a render's time and allocations, so a `{% for %}` over a huge range fails that
 * email instead of stalling a worker.
 */
const SHARED_OPTIONS: LiquidOptions = {
  strictFilters: true,
  ownPropertyOnly: true,
  // No file system: partials are not a template feature here (and `{% include '.env' %}` must read nothing).
  templates: {},
  dynamicPartials: false,
  renderLimit: 1_000,
  memoryLimit: 10_000_000,
};

/** Tags that read other templates from disk; removed so using them is a parse error with a line. */
const FILE_TAGS = ['include', 'render', 'layout', 'block'];

function createEngine(options: LiquidOptions): Liquid {
  const engine = new Liquid({ ...SHARED_OPTIONS, ...options });
  for (const tag of FILE_TAGS) delete engine.tags[tag];
  return engine;
}

/** Subject, preheader and the text part: plain text, nothing escaped. */
export const plainLiquid = createEngine({});

/**
 * The HTML part: every output is HTML-escaped, so a lead called `<script>` appears as text. Without
 * `raw`, which would switch that off for one output and put lead data into the HTML as markup.
 */
export const htmlLiquid = createEngine({ outputEscape: 'escape' });
htmlLiquid.unregisterFilter('raw');

/** Filters refused in the HTML body, with why (liquidjs would only say "undefined filter"). */
export const FORBIDDEN_HTML_FILTERS: Readonly<Record<string, string>> = {
  raw: 'the raw filter is not allowed: lead data is always escaped in the email’s HTML',
};
