import { describe, expect, it } from 'vitest';
import { compileTemplate, TemplateInvalidError } from '../../src/modules/templates/compile-template.ts';
import { SAMPLE_LEAD } from '../../src/modules/templates/sample-lead.ts';
import type { EmailFooter, MergeLead, TemplateContent } from '../../src/modules/templates/template.ts';
import { validateTemplate } from '../../src/modules/templates/validate-template.ts';

const FOOTER: EmailFooter = { senderName: 'Acme Marketing', postalAddress: '1-2-3 Umeda, Kita-ku\nOsaka 530-0001, Japan', unsubscribeUrl: 'https://nurture.test/u/tok123' };

const lead = (fields: Partial<MergeLead> = {}): MergeLead => ({
  id: 7,
  email: 'hana@kojo.example',
  first_name: 'Hana',
  last_name: 'Sato',
  company: 'Kojo',
  title: 'VP Operations',
  industry: 'manufacturing',
  stage: 'consideration',
  attributes: {},
  ...fields,
});

const template = (fields: Partial<TemplateContent>): TemplateContent => ({
  name: 'Test',
  stage: 'awareness',
  subject: 'Hello',
  preheader: '',
  body: 'Hello',
  ...fields,
});

const render = (fields: Partial<TemplateContent>, to: MergeLead = lead(), footer: EmailFooter = FOOTER) => compileTemplate(template(fields)).render(to, footer);

/** The body between the layout's frame, where the template's own HTML goes. */
const bodyOf = (html: string) => html.slice(html.indexOf('class="content"'), html.indexOf('class="footer"'));

describe('rendering a template for a lead', () => {
  it('shows hostile lead values literally: escaped in the HTML, as typed in the text, never run as Markdown or Liquid', () => {
    const hostile = lead({ first_name: '<script>alert(1)</script>', company: '*bold* & {{ email }}', title: '"><img src=x onerror=alert(1)>' });
    const email = render({
      subject: 'For {{ first_name }} at {{ company }}',
      preheader: '{{ company }} news',
      body: 'Hi {{ first_name }},\n\n**{{ company }}** is great.\n\n[Your page](https://acme.example/p?t={{ title }})',
    }, hostile);

    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img src=x');
    expect(bodyOf(email.html)).toContain('Hi &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(bodyOf(email.html)).toContain('<strong>*bold* &amp; {{ email }}</strong>');
    expect(bodyOf(email.html)).toContain('href="https://acme.example/p?t=&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    expect(email.html).toContain('<title>For &lt;script&gt;alert(1)&lt;/script&gt; at *bold* &amp; {{ email }}</title>');

    // Headers and the text part are plain text: exactly what the lead's data says.
    expect(email.subject).toBe('For <script>alert(1)</script> at *bold* & {{ email }}');
    expect(email.preheader).toBe('*bold* & {{ email }} news');
    expect(email.text).toContain('Hi <script>alert(1)</script>,');
    expect(email.text).toContain('*bold* & {{ email }} is great.');
  });

  it('keeps `echo` escaped and refuses `raw` in the body, which would put lead data into the HTML as markup', () => {
    const email = render({ body: '{% echo first_name %}' }, lead({ first_name: '<b>x</b>' }));
    expect(bodyOf(email.html)).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(validateTemplate(template({ body: 'Hi\n{{ first_name | raw }}' }))).toEqual([
      { field: 'body', line: 2, reason: 'the raw filter is not allowed: lead data is always escaped in the email’s HTML' },
    ]);
  });

  it('uses fallbacks for empty fields, builds full_name, and reads attributes', () => {
    const fields = {
      subject: '{{ first_name | default: "there" }}, a note for {{ full_name | default: "you" }}',
      body: 'Hi {{ first_name | default: "there" }} ({{ full_name }}), plan {{ attributes.plan | default: "none" }}, seats {{ attributes.seats }}.',
    };
    const named = render(fields, lead({ attributes: { plan: 'enterprise', seats: 40 } }));
    expect(named.subject).toBe('Hana, a note for Hana Sato');
    expect(named.text).toMatch(/^Hi Hana \(Hana Sato\), plan enterprise, seats 40\./);

    const firstOnly = render(fields, lead({ last_name: null }));
    expect(firstOnly.subject).toBe('Hana, a note for Hana');

    const nameless = render(fields, lead({ first_name: null, last_name: null }));
    expect(nameless.subject).toBe('there, a note for you');
    expect(nameless.text).toMatch(/^Hi there \(\), plan none, seats \./);

    // An empty string is as good as missing.
    expect(render(fields, lead({ first_name: '', last_name: '' })).subject).toBe('there, a note for you');
  });

  it('puts the preheader first as hidden text and ends both parts with the footer, escaped in the HTML', () => {
    const email = render({ preheader: 'Your {{ industry }} checklist' }, lead(), { ...FOOTER, senderName: 'Acme <Sales> & Co', unsubscribeUrl: 'https://nurture.test/u/a?b=1&c=2' });
    expect(email.preheader).toBe('Your manufacturing checklist');
    const bodyStart = email.html.indexOf('<body');
    const hidden = email.html.indexOf('display:none', bodyStart);
    expect(hidden).toBeGreaterThan(bodyStart);
    expect(email.html.indexOf('Your manufacturing checklist')).toBeGreaterThan(hidden);
    expect(email.html.indexOf('Your manufacturing checklist')).toBeLessThan(email.html.indexOf('class="content"'));

    expect(email.html).toContain('Acme &lt;Sales&gt; &amp; Co<br>1-2-3 Umeda, Kita-ku<br>Osaka 530-0001, Japan');
    expect(email.html).toContain('<a href="https://nurture.test/u/a?b=1&amp;c=2"');
    expect(email.html).toContain('>Unsubscribe</a>');
    expect(email.html).toContain('max-width:600px');
    expect(email.text.endsWith('\n-- \nAcme <Sales> & Co\n1-2-3 Umeda, Kita-ku\nOsaka 530-0001, Japan\nUnsubscribe: https://nurture.test/u/a?b=1&c=2\n')).toBe(true);

    // No preheader: no hidden block at all.
    expect(render({ preheader: '' }).html).not.toContain('display:none');
  });

  it('turns Markdown into HTML and readable text: headings, lists, links, bold', () => {
    const email = render({
      body: [
        '# Welcome, {{ first_name }}',
        '',
        'We help **{{ company }}** plan production.',
        '',
        '## What you get',
        '',
        '- A *weekly* plan',
        '- [The checklist](https://acme.example/checklist?who={{ email | url_encode }})',
        '',
        '1. Book a call',
        '2. Try it',
        '',
        'Thanks,',
        'The Acme team',
      ].join('\n'),
    });
    const html = bodyOf(email.html);
    expect(html).toMatch(/<h1 [^>]*>Welcome, Hana<\/h1>/);
    expect(html).toMatch(/<h2 [^>]*>What you get<\/h2>/);
    expect(html).toContain('<strong>Kojo</strong>');
    expect(html).toMatch(/<ul [^>]*>\s*<li [^>]*>A <em>weekly<\/em> plan<\/li>\s*<li [^>]*><a href="https:\/\/acme\.example\/checklist\?who=hana%40kojo\.example"[^>]*>The checklist<\/a><\/li>\s*<\/ul>/);
    expect(html).toMatch(/<ol [^>]*>\s*<li [^>]*>Book a call<\/li>\s*<li [^>]*>Try it<\/li>\s*<\/ol>/);
    expect(html).toContain('Thanks,<br>The Acme team');

    expect(email.text).toBe(
      [
        'Welcome, Hana',
        '',
        'We help Kojo plan production.',
        '',
        'What you get',
        '',
        '- A weekly plan',
        '- The checklist (https://acme.example/checklist?who=hana%40kojo.example)',
        '',
        '1. Book a call',
        '2. Try it',
        '',
        'Thanks,',
        'The Acme team',
        '',
        '-- ',
        'Acme Marketing',
        '1-2-3 Umeda, Kita-ku',
        'Osaka 530-0001, Japan',
        'Unsubscribe: https://nurture.test/u/tok123',
        '',
      ].join('\n'),
    );
  });

  it('shows or hides whole blocks with tags on their own lines, leaving no empty paragraph or blank lines', () => {
    const body = ['Hello,', '{% if company %}', '- {{ company }} gets a discount', '- and a call', '{% endif %}', 'Bye'].join('\n');
    const withCompany = render({ body });
    expect(bodyOf(withCompany.html)).toMatch(/<ul [^>]*>\s*<li [^>]*>Kojo gets a discount<\/li>/);
    expect(withCompany.text).toMatch(/^Hello,\n\n- Kojo gets a discount\n- and a call\n\nBye\n/);

    const without = render({ body }, lead({ company: null }));
    expect(bodyOf(without.html)).not.toContain('<ul');
    expect(bodyOf(without.html)).not.toMatch(/<p [^>]*>\s*<\/p>/);
    expect(without.text).toMatch(/^Hello,\n\nBye\n/);
  });

  it('renders thousands of leads from one compiled template, each with only their own data', () => {
    const compiled = compileTemplate(template({
      subject: '{{ first_name }}',
      body: '{% assign greeting = "Hi " | append: first_name %}{{ greeting }}{% if attributes.vip %} (VIP){% endif %}\n\n{% for n in (1..2) %}{{ n }}{% endfor %}',
    }));
    for (let i = 1; i <= 2_000; i += 1) {
      const email = compiled.render(lead({ id: i, first_name: `Lead${i}`, attributes: i % 2 === 0 ? { vip: true } : {} }), FOOTER);
      expect(email.subject).toBe(`Lead${i}`);
      expect(email.text.startsWith(`Hi Lead${i}${i % 2 === 0 ? ' (VIP)' : ''}\n\n12\n`)).toBe(true);
    }
  });

  it('works for the sample person', () => {
    const email = render({ subject: 'For {{ full_name }} in {{ attributes.city }}' }, SAMPLE_LEAD);
    expect(email.subject).toBe('For Yui Tanaka in Osaka');
  });

  it('refuses to compile a template with problems', () => {
    expect(() => compileTemplate(template({ body: 'Hi {{ nmae }}' }))).toThrow(TemplateInvalidError);
  });
});

describe('validating a template', () => {
  it('refuses a link whose beginning comes from lead data (it could become javascript: or go anywhere), and allows fields after a fixed scheme', () => {
    const reason = 'a link with merge fields must start with https://, http://, mailto: or tel: (a field may fill in the rest of it, not its beginning)';
    expect(validateTemplate(template({ body: 'Hi\n\n[Your page]({{ attributes.homepage }})' }))).toEqual([{ field: 'body', line: 3, reason }]);
    expect(validateTemplate(template({ body: '[a](java{{ attributes.rest }})' }))).toEqual([{ field: 'body', line: 1, reason }]);
    expect(validateTemplate(template({ body: '<{{ attributes.homepage }}>' }))).toEqual([{ field: 'body', line: 1, reason }]);
    expect(validateTemplate(template({ body: '[Your plan](https://example.com/plans/{{ attributes.plan }}?ref={{ email }}) or [write](mailto:{{ email }})' }))).toEqual([]);
    expect(validateTemplate(template({ body: '[Pricing](/pricing) and [docs](https://example.com/docs)' }))).toEqual([]);
  });

  it('reports a syntax error with its field, line and reason', () => {
    expect(validateTemplate(template({ body: 'Hello\n\n{% if company %}\nWe love {{ company }}' }))).toEqual([
      { field: 'body', line: 3, reason: 'tag {% if company %} not closed' },
    ]);
    expect(validateTemplate(template({ subject: 'Hi {{ first_name' }))).toEqual([{ field: 'subject', line: 1, reason: 'output "{{ first_name" not closed' }]);
  });

  it('reports every unknown merge field with its line, and accepts lead fields, attributes and the template’s own variables', () => {
    const problems = validateTemplate(
      template({
        subject: 'Hi {{ frist_name }}',
        preheader: '{{ attributes }}',
        body: [
          '{% assign who = first_name | default: "there" %}Hi {{ who }} of {{ company }}, {{ attributes.plan }}',
          '{% for item in (1..2) %}{{ item }} {{ forloop.index }}{% endfor %}',
          '{{ last_name }} {{ full_name }} {{ email }} {{ title }} {{ industry }} {{ stage }}',
          'Your order: {{ order.id }}',
        ].join('\n'),
      }),
    );
    const fields = 'first_name, last_name, full_name, email, company, title, industry, stage, attributes.<name>';
    expect(problems).toEqual([
      { field: 'subject', line: 1, reason: `there is no merge field "frist_name"; use ${fields}` },
      { field: 'preheader', line: 1, reason: 'say which attribute, e.g. {{ attributes.plan }}' },
      { field: 'body', line: 4, reason: `there is no merge field "order"; use ${fields}` },
    ]);
  });

  it('reports unknown filters and tags, including ones that would read files', () => {
    expect(validateTemplate(template({ body: 'Hi\n{{ company | shout }}' }))).toEqual([{ field: 'body', line: 2, reason: 'there is no filter called "shout"' }]);
    expect(validateTemplate(template({ preheader: '{{ company | upcase }}', body: '\n\n{% include ".env" %}' }))).toEqual([
      { field: 'body', line: 3, reason: 'there is no tag called "include"' },
    ]);
  });
});
