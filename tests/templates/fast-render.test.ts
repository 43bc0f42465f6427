import { describe, expect, it } from 'vitest';
import { fastRenderer } from '../../src/modules/templates/fast-render.ts';
import { htmlLiquid, plainLiquid } from '../../src/modules/templates/liquid-engines.ts';
import type { MergeScope } from '../../src/modules/templates/merge-scope.ts';

const scope = (fields: Partial<MergeScope>): MergeScope => ({
  first_name: null,
  last_name: null,
  full_name: null,
  email: 'ann@example.com',
  company: null,
  title: null,
  industry: null,
  stage: 'awareness',
  attributes: {},
  ...fields,
});

/** Values a lead can bring, the awkward ones above all. */
const SCOPES: MergeScope[] = [
  scope({}),
  scope({ first_name: 'Ann', company: 'Kojo & Sons <Ltd> "quoted" \'single\'' }),
  scope({ first_name: '', company: '' }),
  scope({ first_name: '  ', full_name: '太郎 山田' }),
  scope({ first_name: '{{ email }}', title: '*bold* _x_' }),
  scope({ attributes: { plan: 'pro', seats: 0, vip: false, tags: ['a', '<b>'], nested: { x: 1 }, empty: [], nothing: null } }),
  scope({ attributes: { plan: '', seats: 12.5, vip: true, tags: [] } }),
];

const SOURCES = [
  'Hi {{ first_name }}',
  'Hi {{ first_name | default: "there" }} at {{ company | default: \'your team\' }}!',
  '<p>{{ full_name | default: "friend" }}</p><a href="https://example.com/p?e={{ email }}">x</a>',
  '{{ attributes.plan }}/{{ attributes.seats }}/{{ attributes.vip }}/{{ attributes.tags }}/{{ attributes.nested }}/{{ attributes.missing }}',
  '{{ attributes.plan | default: "free" }} {{ attributes.vip | default: "no" }} {{ attributes.empty | default: "none" }} {{ attributes.nothing | default: "nil" }} {{ attributes.seats | default: "n/a" }}',
  '{{title}}{{stage}}{{ industry|default:"any" }}',
  // A link address as compileTemplate marks it for click tracking (markdown-with-liquid.ts): passed through alike.
  '<a href="trk0123456789abcdefohttps://example.com/c/{{ company }}?e={{ email }}trk0123456789abcdefc">x</a>',
];

describe('the fast renderer of merge-field-only templates', () => {
  it('renders exactly what liquidjs renders, escaped for HTML and not', () => {
    for (const [engine, escape] of [[plainLiquid, false], [htmlLiquid, true]] as const) {
      for (const source of SOURCES) {
        const fast = fastRenderer(source, escape);
        expect(fast, source).toBeDefined();
        const templates = engine.parse(source);
        for (const each of SCOPES) expect(fast!(each), `${source} (${escape ? 'html' : 'text'})`).toBe(engine.renderSync(templates, each));
      }
    }
  });

  it('leaves anything beyond merge fields to liquidjs: tags, other filters, whitespace control, unknown fields', () => {
    for (const source of [
      '{% if first_name %}Hi{% endif %}',
      '{{ first_name | upcase }}',
      '{{- first_name }}',
      '{{ first_name -}}',
      '{{ nickname }}',
      '{{ attributes["plan"] }}',
      '{{ first_name | default: "a" | append: "b" }}',
    ]) {
      expect(fastRenderer(source, true), source).toBeUndefined();
    }
  });
});
