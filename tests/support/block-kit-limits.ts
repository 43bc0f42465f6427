import { z } from 'zod';

/**
 * Block Kit as Slack validates it, for the fake Slack API: pure functions that return what Slack would
 * refuse, in Slack's own words (`no more than 50 items allowed [json-pointer:/blocks]`).
 *
 * Limits are Slack's documented ones (docs.slack.dev/reference/block-kit). Where the installed
 * @slack/types disagrees with Slack, the constant says so: Slack is what the tests must satisfy.
 */
export const LIMITS = {
  /** chat.* and response_url messages, per blocks array. */
  messageBlocks: 50,
  /** Modals and the Home tab. */
  viewBlocks: 100,
  /** chat.postMessage `text`; longer is refused with msg_too_long. */
  messageText: 40_000,
  /** A message may carry at most 100 legacy attachments (too_many_attachments). */
  messageAttachments: 100,
  /** Any text object unless a block says less. */
  textObject: 3_000,
  sectionText: 3_000,
  sectionFields: 10,
  sectionFieldText: 2_000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  markdownText: 12_000,
  inputLabel: 2_000,
  inputHint: 2_000,
  imageAltText: 2_000,
  imageTitle: 2_000,
  videoTitle: 200,
  videoDescription: 200,
  tableRows: 100,
  tableCells: 20,
  blockId: 255,
  actionId: 255,
  buttonText: 75,
  buttonValue: 2_000,
  buttonAccessibilityLabel: 75,
  url: 3_000,
  placeholder: 150,
  optionText: 75,
  /**
   * Slack's docs allow 150 characters for an option `value`; the installed @slack/types comments still
   * say 75. Slack accepts 150, so the fake does too — don't rely on the types' number.
   */
  optionValue: 150,
  optionDescription: 75,
  optionGroupLabel: 75,
  /** static_select / multi_static_select: options, option groups, and options within one group. */
  selectOptions: 100,
  optionGroups: 100,
  checkboxOptions: 10,
  radioOptions: 10,
  overflowOptions: 5,
  textInputLength: 3_000,
  fileInputMaxFiles: 10,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  viewTitle: 24,
  viewSubmit: 24,
  viewClose: 24,
  callbackId: 255,
  externalId: 255,
  privateMetadata: 3_000,
  /** views.* refuse a view whose JSON exceeds 250 kB with view_too_large (counted here as 250,000 bytes). */
  viewBytes: 250_000,
} as const;

export type Surface = 'message' | 'modal' | 'home';

export interface BlockKitProblem {
  /** JSON pointer into the request, as Slack reports it: `/blocks/3/text/text`, `/view/title/text`. */
  pointer: string;
  message: string;
}

/** What Slack answers instead of `ok: true`: an error code plus the `[ERROR] …` lines it explains it with. */
export interface SlackRefusal {
  error: string;
  problems: BlockKitProblem[];
}

/** Slack's wording: `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`. */
export function formatProblem(problem: BlockKitProblem): string {
  return `${problem.message} [json-pointer:${problem.pointer}]`;
}

// ---------------------------------------------------------------------------------------------------
// Composition objects and elements (zod schemas; Slack-style messages come from slackIssueMessage)

const text = (max: number) => z.string().min(1).max(max);
const plainText = (max: number) =>
  z.looseObject({ type: z.literal('plain_text'), text: text(max), emoji: z.boolean().optional() });
const textObject = (max: number) =>
  z.looseObject({ type: z.enum(['plain_text', 'mrkdwn']), text: text(max), verbatim: z.boolean().optional() });
const url = z.string().min(1).max(LIMITS.url);
const placeholder = plainText(LIMITS.placeholder).optional();

const confirm = z
  .looseObject({
    title: plainText(LIMITS.confirmTitle),
    text: textObject(LIMITS.confirmText),
    confirm: plainText(LIMITS.confirmButton),
    deny: plainText(LIMITS.confirmButton),
    style: z.enum(['primary', 'danger']).optional(),
  })
  .optional();

/** Select menus and overflow menus take plain_text options; checkboxes and radio buttons also mrkdwn. */
const option = (label: typeof plainText | typeof textObject) =>
  z.looseObject({
    text: label(LIMITS.optionText),
    value: z.string().max(LIMITS.optionValue),
    description: label(LIMITS.optionDescription).optional(),
    url: url.optional(),
  });
const menuOption = option(plainText);
const choiceOption = option(textObject);
const optionGroup = z.looseObject({
  label: plainText(LIMITS.optionGroupLabel),
  options: z.array(menuOption).min(1).max(LIMITS.selectOptions),
});

/** Every interactive element: its `type`, an action_id of at most 255 characters, an optional confirm. */
const element = <T extends string, S extends z.core.$ZodLooseShape>(type: T, shape: S) =>
  z.looseObject({
    type: z.literal(type),
    action_id: z.string().min(1).max(LIMITS.actionId).optional(),
    confirm,
    focus_on_load: z.boolean().optional(),
    ...shape,
  });

const staticSelect = <T extends string>(type: T) =>
  element(type, {
    placeholder,
    options: z.array(menuOption).min(1).max(LIMITS.selectOptions).optional(),
    option_groups: z.array(optionGroup).min(1).max(LIMITS.optionGroups).optional(),
    max_selected_items: z.number().int().min(1).optional(),
  }).refine((select) => (select.options === undefined) !== (select.option_groups === undefined), {
    message: 'must provide exactly one of options or option_groups',
  });

const plainSelect = <T extends string>(type: T) => element(type, { placeholder });

const ELEMENTS = {
  button: element('button', {
    text: plainText(LIMITS.buttonText),
    value: z.string().max(LIMITS.buttonValue).optional(),
    url: url.optional(),
    style: z.enum(['primary', 'danger']).optional(),
    accessibility_label: z.string().max(LIMITS.buttonAccessibilityLabel).optional(),
  }),
  workflow_button: element('workflow_button', {
    text: plainText(LIMITS.buttonText),
    workflow: z.looseObject({ trigger: z.looseObject({ url }) }),
    style: z.enum(['primary', 'danger']).optional(),
    accessibility_label: z.string().max(LIMITS.buttonAccessibilityLabel).optional(),
  }),
  checkboxes: element('checkboxes', { options: z.array(choiceOption).min(1).max(LIMITS.checkboxOptions) }),
  radio_buttons: element('radio_buttons', { options: z.array(choiceOption).min(1).max(LIMITS.radioOptions) }),
  overflow: element('overflow', { options: z.array(menuOption).min(1).max(LIMITS.overflowOptions) }),
  datepicker: element('datepicker', { placeholder, initial_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }),
  datetimepicker: element('datetimepicker', { initial_date_time: z.number().int().optional() }),
  timepicker: element('timepicker', { placeholder, initial_time: z.string().regex(/^\d{2}:\d{2}$/).optional() }),
  static_select: staticSelect('static_select'),
  multi_static_select: staticSelect('multi_static_select'),
  external_select: plainSelect('external_select'),
  multi_external_select: plainSelect('multi_external_select'),
  users_select: plainSelect('users_select'),
  multi_users_select: plainSelect('multi_users_select'),
  conversations_select: plainSelect('conversations_select'),
  multi_conversations_select: plainSelect('multi_conversations_select'),
  channels_select: plainSelect('channels_select'),
  multi_channels_select: plainSelect('multi_channels_select'),
  plain_text_input: element('plain_text_input', {
    placeholder,
    multiline: z.boolean().optional(),
    min_length: z.number().int().min(0).max(LIMITS.textInputLength).optional(),
    max_length: z.number().int().min(1).max(LIMITS.textInputLength).optional(),
  }),
  email_text_input: element('email_text_input', { placeholder }),
  url_text_input: element('url_text_input', { placeholder }),
  number_input: element('number_input', { placeholder, is_decimal_allowed: z.boolean() }),
  rich_text_input: element('rich_text_input', { placeholder }),
  file_input: element('file_input', { max_files: z.number().int().min(1).max(LIMITS.fileInputMaxFiles).optional() }),
  image: z
    .looseObject({
      type: z.literal('image'),
      alt_text: z.string().min(1).max(LIMITS.imageAltText),
      image_url: url.optional(),
      slack_file: z.looseObject({}).optional(),
    })
    .refine((image) => (image.image_url === undefined) !== (image.slack_file === undefined), {
      message: 'must provide exactly one of image_url or slack_file',
    }),
};
type ElementType = keyof typeof ELEMENTS;

const SELECTS = [
  'static_select',
  'multi_static_select',
  'external_select',
  'multi_external_select',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
] as const satisfies readonly ElementType[];

/** Which elements each block accepts (Block Kit reference, "Works with block types"). */
const PLACEMENT = {
  accessory: ['button', 'workflow_button', 'checkboxes', 'radio_buttons', 'overflow', 'datepicker', 'timepicker', 'image', ...SELECTS],
  actions: ['button', 'workflow_button', 'checkboxes', 'radio_buttons', 'overflow', 'datepicker', 'datetimepicker', 'timepicker', ...SELECTS],
  input: [
    'plain_text_input',
    'email_text_input',
    'url_text_input',
    'number_input',
    'rich_text_input',
    'file_input',
    'checkboxes',
    'radio_buttons',
    'datepicker',
    'datetimepicker',
    'timepicker',
    ...SELECTS,
  ],
} as const satisfies Record<string, readonly ElementType[]>;

const elementOf = (types: readonly ElementType[]) =>
  z.discriminatedUnion(
    'type',
    types.map((type) => ELEMENTS[type]) as unknown as [z.ZodObject, ...z.ZodObject[]],
  );

// ---------------------------------------------------------------------------------------------------
// Blocks: one row per block type, with the surfaces Slack accepts it on

const block = <T extends string, S extends z.core.$ZodLooseShape>(type: T, shape: S) =>
  z.looseObject({ type: z.literal(type), block_id: z.string().min(1).max(LIMITS.blockId).optional(), ...shape });

const EVERYWHERE: readonly Surface[] = ['message', 'modal', 'home'];

interface BlockSpec {
  surfaces: readonly Surface[];
  schema: z.ZodType;
}

const BLOCKS: Record<string, BlockSpec> = {
  actions: {
    surfaces: EVERYWHERE,
    schema: block('actions', {
      elements: z.array(elementOf(PLACEMENT.actions)).min(1).max(LIMITS.actionsElements),
    }).superRefine((actions, ctx) => {
      // action_id must be unique among the elements of one block.
      const seen = new Set<unknown>();
      actions.elements.forEach((el, index) => {
        if (el.action_id === undefined) return;
        if (seen.has(el.action_id)) ctx.addIssue({ code: 'custom', message: 'duplicate action_id', path: ['elements', index, 'action_id'] });
        seen.add(el.action_id);
      });
    }),
  },
  context: {
    surfaces: EVERYWHERE,
    schema: block('context', {
      elements: z
        .array(z.discriminatedUnion('type', [ELEMENTS.image, plainText(LIMITS.textObject), textObject(LIMITS.textObject).extend({ type: z.literal('mrkdwn') })]))
        .min(1)
        .max(LIMITS.contextElements),
    }),
  },
  divider: { surfaces: EVERYWHERE, schema: block('divider', {}) },
  file: { surfaces: ['message'], schema: block('file', { external_id: z.string().min(1), source: z.literal('remote') }) },
  header: { surfaces: EVERYWHERE, schema: block('header', { text: plainText(LIMITS.headerText) }) },
  image: {
    surfaces: EVERYWHERE,
    schema: block('image', {
      alt_text: z.string().min(1).max(LIMITS.imageAltText),
      image_url: url.optional(),
      slack_file: z.looseObject({}).optional(),
      title: plainText(LIMITS.imageTitle).optional(),
    }).refine((image) => (image.image_url === undefined) !== (image.slack_file === undefined), {
      message: 'must provide exactly one of image_url or slack_file',
    }),
  },
  // Slack has accepted input blocks in messages since 2021 (with dispatch_action); Nurture keeps them to
  // modals and the Home tab on purpose, so the fake refuses them in messages — stricter than Slack.
  input: {
    surfaces: ['modal', 'home'],
    schema: block('input', {
      label: plainText(LIMITS.inputLabel),
      element: elementOf(PLACEMENT.input),
      hint: plainText(LIMITS.inputHint).optional(),
      optional: z.boolean().optional(),
      dispatch_action: z.boolean().optional(),
    }),
  },
  markdown: { surfaces: ['message'], schema: block('markdown', { text: text(LIMITS.markdownText) }) },
  rich_text: { surfaces: EVERYWHERE, schema: block('rich_text', { elements: z.array(z.looseObject({ type: z.string() })) }) },
  section: {
    surfaces: EVERYWHERE,
    schema: block('section', {
      text: textObject(LIMITS.sectionText).optional(),
      fields: z.array(textObject(LIMITS.sectionFieldText)).min(1).max(LIMITS.sectionFields).optional(),
      accessory: elementOf(PLACEMENT.accessory).optional(),
      expand: z.boolean().optional(),
    }).refine((section) => section.text !== undefined || section.fields !== undefined, {
      message: 'must provide text or fields',
    }),
  },
  table: {
    surfaces: ['message'],
    schema: block('table', {
      rows: z.array(z.array(z.looseObject({ type: z.string() })).min(1).max(LIMITS.tableCells)).min(1).max(LIMITS.tableRows),
    }),
  },
  video: {
    surfaces: EVERYWHERE,
    schema: block('video', {
      alt_text: z.string().min(1),
      title: plainText(LIMITS.videoTitle),
      description: plainText(LIMITS.videoDescription).optional(),
      video_url: url,
      thumbnail_url: url,
      title_url: url.optional(),
    }),
  },
};

/** Block types Slack knows in some contexts but that this fake does not model: refused, so say so. */
const NOT_MODELLED = new Set(['alert', 'card', 'carousel', 'container', 'context_actions', 'data_table', 'plan', 'task_card']);

// ---------------------------------------------------------------------------------------------------
// Validation

/** zod issue → Slack's phrasing. */
function slackIssueMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'too_big':
      return issue.origin === 'array'
        ? `no more than ${issue.maximum} items allowed`
        : issue.origin === 'string'
          ? `must be less than ${Number(issue.maximum) + 1} characters`
          : `must be at most ${issue.maximum}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `must provide at least ${issue.minimum} items`
        : issue.origin === 'string'
          ? `must be more than ${Number(issue.minimum) - 1} characters`
          : `must be at least ${issue.minimum}`;
    case 'invalid_type':
      return issue.input === undefined ? 'missing required field' : `must be a ${issue.expected}`;
    case 'invalid_value':
      return `must be ${issue.values.map((value) => `'${String(value)}'`).join(' or ')}`;
    case 'invalid_union':
      return 'failed to match all allowed schemas';
    case 'invalid_format':
      return 'is not in the expected format';
    default:
      return issue.message ?? 'is invalid';
  }
}

function problemsFrom(schema: z.ZodType, value: unknown, pointer: string): BlockKitProblem[] {
  const result = schema.safeParse(value, { error: slackIssueMessage });
  if (result.success) return [];
  return result.error.issues.map((issue) => ({
    pointer: [pointer, ...issue.path.map(String)].join('/'),
    message: issue.message,
  }));
}

const SURFACE_NAMES: Record<Surface, string> = { message: 'messages', modal: 'modals', home: 'the Home tab' };

/** Every Block Kit rule for one `blocks` array on one surface; [] when Slack would accept it. */
export function validateBlocks(blocks: unknown, surface: Surface, pointer = '/blocks'): BlockKitProblem[] {
  if (!Array.isArray(blocks)) return [{ pointer, message: 'must be an array' }];
  const problems: BlockKitProblem[] = [];
  const maxBlocks = surface === 'message' ? LIMITS.messageBlocks : LIMITS.viewBlocks;
  if (blocks.length > maxBlocks) problems.push({ pointer, message: `no more than ${maxBlocks} items allowed` });

  const blockIds = new Set<string>();
  blocks.forEach((candidate: unknown, index) => {
    const at = `${pointer}/${index}`;
    const type = typeof candidate === 'object' && candidate !== null ? (candidate as { type?: unknown }).type : undefined;
    const spec = typeof type === 'string' ? BLOCKS[type] : undefined;
    if (spec === undefined) {
      const why = typeof type !== 'string' ? 'missing required field: type' : NOT_MODELLED.has(type)
        ? `block type '${type}' is not modelled by the fake Slack (add it to block-kit-limits.ts)`
        : `unsupported block type '${type}'`;
      problems.push({ pointer: at, message: why });
      return;
    }
    if (!spec.surfaces.includes(surface)) {
      problems.push({ pointer: `${at}/type`, message: `'${type}' blocks are not allowed in ${SURFACE_NAMES[surface]}` });
    }
    problems.push(...problemsFrom(spec.schema, candidate, at));

    const blockId = (candidate as { block_id?: unknown }).block_id;
    if (typeof blockId === 'string') {
      // block_id must be unique within one message or view.
      if (blockIds.has(blockId)) problems.push({ pointer: `${at}/block_id`, message: `duplicate block_id '${blockId}'` });
      blockIds.add(blockId);
    }
  });
  return problems;
}

export interface MessageContent {
  text?: unknown;
  blocks?: unknown;
  attachments?: unknown;
}

/** True when a message has something to show: Slack's no_text otherwise. */
export function hasMessageContent(message: MessageContent): boolean {
  const nonEmpty = (value: unknown) => (typeof value === 'string' ? value.length > 0 : Array.isArray(value) && value.length > 0);
  return nonEmpty(message.text) || nonEmpty(message.blocks) || nonEmpty(message.attachments);
}

/**
 * What chat.postMessage / chat.update / chat.postEphemeral / a response_url would refuse in a message
 * (content presence is the caller's check: it differs per method). Blocks must already be parsed.
 */
export function checkMessage(message: MessageContent): SlackRefusal | null {
  if (typeof message.text === 'string' && message.text.length > LIMITS.messageText) {
    return { error: 'msg_too_long', problems: [{ pointer: '/text', message: `must be less than ${LIMITS.messageText + 1} characters` }] };
  }
  if (message.blocks !== undefined) {
    if (!Array.isArray(message.blocks)) return { error: 'invalid_blocks_format', problems: [{ pointer: '/blocks', message: 'must be a JSON array' }] };
    const problems = validateBlocks(message.blocks, 'message');
    if (problems.length > 0) return { error: 'invalid_blocks', problems };
  }
  if (message.attachments !== undefined) {
    if (!Array.isArray(message.attachments)) return { error: 'invalid_attachments', problems: [{ pointer: '/attachments', message: 'must be a JSON array' }] };
    if (message.attachments.length > LIMITS.messageAttachments) {
      return { error: 'too_many_attachments', problems: [{ pointer: '/attachments', message: `no more than ${LIMITS.messageAttachments} items allowed` }] };
    }
    // Blocks inside an attachment follow the message rules (50 per attachment).
    const problems = message.attachments.flatMap((attachment: unknown, index) => {
      const blocks = typeof attachment === 'object' && attachment !== null ? (attachment as { blocks?: unknown }).blocks : undefined;
      return blocks === undefined ? [] : validateBlocks(blocks, 'message', `/attachments/${index}/blocks`);
    });
    if (problems.length > 0) return { error: 'invalid_blocks', problems };
  }
  return null;
}

const viewFields = {
  blocks: z.array(z.unknown()),
  private_metadata: z.string().max(LIMITS.privateMetadata).optional(),
  callback_id: z.string().max(LIMITS.callbackId).optional(),
  external_id: z.string().max(LIMITS.externalId).optional(),
};
const VIEWS = {
  modal: z.looseObject({
    type: z.literal('modal'),
    title: plainText(LIMITS.viewTitle),
    submit: plainText(LIMITS.viewSubmit).optional(),
    close: plainText(LIMITS.viewClose).optional(),
    clear_on_close: z.boolean().optional(),
    notify_on_close: z.boolean().optional(),
    submit_disabled: z.boolean().optional(),
    ...viewFields,
  }),
  home: z.looseObject({ type: z.literal('home'), ...viewFields }),
} as const;
export type ViewType = keyof typeof VIEWS;

/**
 * What views.open / views.push / views.update / views.publish would refuse. Slack answers schema problems
 * in a view with `invalid_arguments` (not invalid_blocks), led by "failed to match all allowed schemas".
 */
export function checkView(view: unknown, allowed: readonly ViewType[] = ['modal', 'home']): SlackRefusal | null {
  if (typeof view !== 'object' || view === null || Array.isArray(view)) {
    return { error: 'invalid_arguments', problems: [{ pointer: '/view', message: 'must provide an object' }] };
  }
  if (Buffer.byteLength(JSON.stringify(view)) > LIMITS.viewBytes) {
    return { error: 'view_too_large', problems: [{ pointer: '/view', message: `must be at most ${LIMITS.viewBytes} bytes` }] };
  }
  const type = (view as { type?: unknown }).type;
  if (typeof type !== 'string' || !(allowed as readonly string[]).includes(type)) {
    return { error: 'invalid_arguments', problems: [{ pointer: '/view/type', message: `must be ${allowed.map((t) => `'${t}'`).join(' or ')}` }] };
  }
  const viewType = type as ViewType;
  const problems = [
    ...problemsFrom(VIEWS[viewType], view, '/view'),
    ...validateBlocks((view as { blocks?: unknown }).blocks ?? [], viewType, '/view/blocks'),
  ];
  const blocks = (view as { blocks?: unknown }).blocks;
  const hasInput = Array.isArray(blocks) && blocks.some((b: unknown) => (b as { type?: unknown } | null)?.type === 'input');
  if (viewType === 'modal' && hasInput && (view as { submit?: unknown }).submit === undefined) {
    // A modal with input blocks needs a submit button (Block Kit reference, modal view `submit`).
    problems.push({ pointer: '/view/submit', message: 'must provide submit when the view has input blocks' });
  }
  if (problems.length === 0) return null;
  return { error: 'invalid_arguments', problems: [{ pointer: '/view', message: 'failed to match all allowed schemas' }, ...problems] };
}
