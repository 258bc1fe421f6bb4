/**
 * The grammar around the process string itself (spec oss.md §5.1–5.3): decoding a POST body, routing an
 * `x-oss-async-process` string by its action, and the synchronous `x-oss-process` grammar (`video/info`,
 * `audio/info`, `|sys/saveas,o_..[,b_..]`). Pure; the OSS handler (src/http/oss/handlers/process.ts) only
 * translates wire to these and back.
 */
import { fail } from '../../errors.js';
import { checkBucketName, checkObjectKey } from '../../storage/names.js';
import { extractProcessBody, type ProcessField } from './process-string.js';
import { decodeBase64Name } from './base64-name.js';

/** What x-oss-async-process runs (one IMM CreateMediaConvertTask each). */
export const ASYNC_ACTIONS = ['audio/convert', 'audio/concat', 'video/convert', 'video/concat'] as const;
/** Asynchronous actions IMM has but Medley does not implement: NotImplemented, not "Imm Client". */
const ASYNC_NOT_IMPLEMENTED = ['video/snapshots', 'video/sprite', 'video/animation', 'doc/convert'];
/** What x-oss-process runs. */
export const SYNC_ACTIONS = ['video/info', 'audio/info'] as const;
export type SyncAction = (typeof SYNC_ACTIONS)[number];

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * The process string of a POST body (`<field>=<process>`, raw or percent-encoded; any Content-Type).
 * The body must be UTF-8.
 */
export function decodeProcessBody(body: Buffer, field: ProcessField): string {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return fail('InvalidMediaArgument', `${field}: the request body is not UTF-8 text`, { ArgumentName: field });
  }
  return extractProcessBody(text, field);
}

/**
 * The action a process string starts with: `video/convert` for `video/convert,f_mp4|sys/saveas,...`,
 * `image/resize` for `image/resize,w_100`, `style/thumb` for `style/thumb`.
 */
export function actionOf(process: string): string {
  const head = (process.split('|', 1)[0] ?? '').trim();
  const m = /^[^,/]*\/[^,/]*/.exec(head);
  return m ? m[0].trim() : (head.split(',', 1)[0] ?? '').trim();
}

/**
 * Routes an x-oss-async-process string by its action before it is parsed: actions IMM cannot run
 * asynchronously are `Imm Client` (404) as on OSS; IMM's image-sequence and document actions are
 * NotImplemented. Styles, `sys/...` and malformed heads are left to the parser, which explains them.
 */
export function checkAsyncAction(process: string): void {
  const action = actionOf(process);
  if ((ASYNC_ACTIONS as readonly string[]).includes(action)) return;
  if (!action.includes('/') || action.startsWith('style/') || action.startsWith('sys/')) return;
  if (ASYNC_NOT_IMPLEMENTED.includes(action)) {
    fail('NotImplemented', `Medley does not implement the asynchronous action "${action}" (x-oss-async-process supports ${ASYNC_ACTIONS.join(', ')}).`, {
      ArgumentName: 'x-oss-async-process',
      ArgumentValue: action,
    });
  }
  const hint = (SYNC_ACTIONS as readonly string[]).includes(action) || action.startsWith('image/') ? `; send ${action} as x-oss-process instead` : '';
  fail('ImmClient', `${action} cannot run asynchronously: x-oss-async-process runs ${ASYNC_ACTIONS.join(', ')}${hint}.`);
}

export interface SyncProcess {
  action: SyncAction;
  /** `|sys/saveas,o_<b64>[,b_<b64>]`: `bucket` undefined when `b_` was omitted (the response then says ""). */
  saveAs?: { bucket?: string; key: string };
}

/**
 * Parses an x-oss-process string. Only `video/info` and `audio/info` (no parameters) are implemented;
 * asynchronous-only actions are InvalidArgument pointing at x-oss-async-process; other actions are
 * NotImplemented naming them. `|sys/saveas,o_..[,b_..]` is allowed last when `allowSaveAs` (POST).
 */
export function parseSyncProcess(process: string, opts: { allowSaveAs: boolean }): SyncProcess {
  const field = 'x-oss-process';
  const text = process.replace(/[\r\n]+$/, '').trim();
  if (text === '') fail('MissingMediaParameter', `${field}: the process string is empty`, { ArgumentName: field });
  const pipes = text.split('|');
  const head = (pipes[0] ?? '').trim();
  const action = actionOf(head);
  if ([...ASYNC_ACTIONS, ...ASYNC_NOT_IMPLEMENTED].includes(action)) {
    fail('InvalidMediaArgument', `${action} runs only asynchronously: send POST /<object>?x-oss-async-process with the body "x-oss-async-process=${action},...|sys/saveas,o_<base64 key>"`, {
      ArgumentName: field,
      ArgumentValue: action,
    });
  }
  if (!(SYNC_ACTIONS as readonly string[]).includes(action)) {
    const what = action === '' ? `"${head}"` : `"${action}"`;
    fail('NotImplemented', `Medley does not implement the process action ${what} (x-oss-process supports ${SYNC_ACTIONS.join(' and ')}).`, { ArgumentName: field, ArgumentValue: action || head });
  }
  const params = head.slice(action.length);
  if (params !== '' && params !== ',') {
    fail('InvalidMediaArgument', `${action} takes no parameters; got "${head}"`, { ArgumentName: field, ArgumentValue: head });
  }

  let saveAs: SyncProcess['saveAs'];
  for (let i = 1; i < pipes.length; i++) {
    const pipe = (pipes[i] ?? '').trim();
    if (pipe === '') fail('InvalidMediaArgument', `${field}: empty pipe ${i + 1} ("|" with nothing after it)`, { ArgumentName: field });
    if (/^sys\/saveas(,|$)/.test(pipe)) {
      if (i !== pipes.length - 1) fail('InvalidMediaArgument', `sys/saveas must be the last pipe, but "${pipes[i + 1] ?? ''}" follows it`, { ArgumentName: 'sys/saveas' });
      saveAs = parseSaveAs(pipe.slice('sys/saveas'.length));
    } else if (/^saveas(,|$)/.test(pipe)) {
      fail('InvalidMediaArgument', `"${pipe}" must be written "sys/saveas,..."`, { ArgumentName: 'saveas' });
    } else {
      fail('InvalidMediaArgument', `${action} cannot be followed by "${pipe}"; only "|sys/saveas,o_<base64 key>" can`, { ArgumentName: field, ArgumentValue: pipe });
    }
  }
  if (saveAs && !opts.allowSaveAs) {
    fail('InvalidMediaArgument', 'sys/saveas needs POST /<object>?x-oss-process with the process string in the body', { ArgumentName: 'sys/saveas' });
  }
  return { action: action as SyncAction, ...(saveAs ? { saveAs } : {}) };
}

/** `,o_<b64>[,b_<b64>]` (the text after `sys/saveas`). */
function parseSaveAs(rest: string): { bucket?: string; key: string } {
  const context = 'sys/saveas';
  if (/\/notify(,|$)/.test(rest)) fail('InvalidMediaArgument', '"/notify" is only available with x-oss-async-process', { ArgumentName: 'notify' });
  const values = new Map<string, { value: string; token: string }>();
  for (const raw of rest.replace(/^,/, '').split(',')) {
    const token = raw.trim();
    if (token === '') {
      if (rest === '') break;
      fail('InvalidMediaArgument', `empty parameter of sys/saveas in "${rest}"`, { ArgumentName: 'sys/saveas' });
    }
    const us = token.indexOf('_');
    const key = us > 0 ? token.slice(0, us) : token;
    if (us <= 0 || (key !== 'o' && key !== 'b')) fail('InvalidMediaArgument', `unknown parameter "${token}" of sys/saveas (it takes o_ and b_)`, { ArgumentName: key });
    if (values.has(key)) fail('InvalidMediaArgument', `parameter "${token}" of sys/saveas repeats "${values.get(key)?.token ?? ''}"`, { ArgumentName: key });
    values.set(key, { value: token.slice(us + 1), token });
  }
  const o = values.get('o');
  if (!o) fail('MissingMediaParameter', 'parameter "o" of sys/saveas (the target object) is required', { ArgumentName: 'o' });
  const key = decodeBase64Name(o.value, { parameter: 'o of sys/saveas', token: o.token, context, argumentName: 'o' });
  checkObjectKey(key);
  const b = values.get('b');
  if (!b) return { key };
  const bucket = decodeBase64Name(b.value, { parameter: 'b of sys/saveas', token: b.token, context, argumentName: 'b' });
  checkBucketName(bucket);
  return { bucket, key };
}

