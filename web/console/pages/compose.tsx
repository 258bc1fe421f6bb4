/**
 * Compose an audio/concat, video/concat or audio/convert without writing a process string: pick clips,
 * reorder them (drag, or the buttons), trim each on its waveform or in the fields, choose the output from the
 * API's own validation tables (GET media/rules), see the exact process string (checked by the API's parser
 * as it changes), the same request in four SDKs, and the plan (`medley process --explain`, POST
 * media/explain); then run it as a task through the OSS route and watch it live.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import * as api from '../api.js';
import type { SessionInfo, TaskView } from '../api.js';
import { href } from '../routes.js';
import { ErrorLine, message } from '../ui.js';
import * as media from '../media.js';
import type { ComposeAction, Explanation, MediaRules, OutputChoice } from '../media.js';
import { Waveform } from '../waveform.js';
import { AUDIO, VIDEO } from './object.js';

interface ClipRow extends media.Clip {
  id: number;
}

const NO_CHOICE: OutputChoice = { format: 'mp3', sampleRate: '', channels: '', bitrateKbps: '', acodec: '', vcodec: '', size: '', fps: '', rate: '', crf: '', vbKbps: '' };
const ACTIONS: Array<{ id: ComposeAction; label: string }> = [
  { id: 'audio/concat', label: 'Merge audio (audio/concat)' },
  { id: 'video/concat', label: 'Merge video (video/concat)' },
  { id: 'audio/convert', label: 'Convert audio (audio/convert)' },
];

/** What the rules allow for the current container and codecs. */
function choicesOf(rules: MediaRules, o: OutputChoice) {
  const video = rules.videoContainers[o.format];
  const audioCodec = video ? o.acodec : rules.audioContainers[o.format]?.codec;
  const lim = (audioCodec && rules.codecLimits[audioCodec]) || {};
  const muxRates = video && audioCodec ? video.audioRates[audioCodec] : null;
  const rates = rules.sampleRates.filter((r) => (lim.maxRate === undefined || r <= lim.maxRate) && (!lim.rates || lim.rates.includes(r)) && (!muxRates || muxRates.includes(r)));
  const [cLo, cHi] = rules.limits.channels;
  const channels: number[] = [];
  for (let c = cLo; c <= cHi; c++) if ((lim.maxChannels === undefined || c <= lim.maxChannels) && (lim.channels === undefined || c === lim.channels)) channels.push(c);
  return { video, audioCodec, rates, channels };
}

/** Keeps every choice inside what the (new) container allows. */
function fitChoice(rules: MediaRules, o: OutputChoice): OutputChoice {
  const n = { ...o };
  const video = rules.videoContainers[n.format];
  if (video) {
    if (!video.videoCodecs.includes(n.vcodec)) n.vcodec = video.videoCodecs[0] ?? '';
    if (!video.audioCodecs.includes(n.acodec)) n.acodec = video.audioCodecs.includes('aac') ? 'aac' : (video.audioCodecs[0] ?? '');
    if (video.frameRates && n.fps && !video.frameRates.includes(n.fps)) n.fps = '';
  } else {
    n.vcodec = n.acodec = n.size = n.fps = n.crf = n.vbKbps = '';
    n.rate = '';
  }
  const c = choicesOf(rules, n);
  if (n.sampleRate && !c.rates.includes(Number(n.sampleRate))) n.sampleRate = '';
  if (n.channels && !c.channels.includes(Number(n.channels))) n.channels = '';
  return n;
}

const withExtension = (key: string, ext: string) => (/\.[^./]*$/.test(key) ? key.replace(/\.[^./]*$/, `.${ext}`) : `${key}.${ext}`);
const secs = (v: string) => (v.trim() && Number(v) > 0 ? Number(v) : 0);

export function Compose({ session, bucket: initial }: { session: SessionInfo; bucket?: string }) {
  const [rules, setRules] = useState<MediaRules>();
  const [buckets, setBuckets] = useState<string[]>([]);
  const [bucket, setBucket] = useState(initial ?? '');
  const [action, setAction] = useState<ComposeAction>('audio/concat');
  const [objects, setObjects] = useState<string[]>([]);
  const [clips, setClips] = useState<ClipRow[]>([]);
  const [choice, setChoice] = useState<OutputChoice>(NO_CHOICE);
  const [output, setOutput] = useState('concat/output.mp3');
  const [error, setError] = useState<string>();
  const [verdict, setVerdict] = useState<{ process: string; error?: string }>();
  const [plan, setPlan] = useState<{ process: string; plan?: Explanation; error?: string; busy?: boolean }>();
  const [submitted, setSubmitted] = useState<string>();
  const [task, setTask] = useState<TaskView>();
  const [sdk, setSdk] = useState('oss2');
  const [copied, setCopied] = useState<string>();
  const [dragFrom, setDragFrom] = useState<number>();
  const nextId = useRef(1);

  useEffect(() => {
    media.rules().then(setRules, (e) => setError(message(e)));
    api.listBuckets(session).then(setBuckets, (e) => setError(message(e)));
  }, []);
  const wantsVideo = action === 'video/concat';
  useEffect(() => {
    if (!bucket) return;
    // One page of the bucket (up to 200 objects): enough to pick clips from.
    api.listFolder(bucket, '', undefined, 200).then(
      (l) => setObjects(l.objects.map((o) => o.key)),
      (e) => setError(message(e)),
    );
  }, [bucket]);
  const available = objects.filter((k) => (wantsVideo ? VIDEO : AUDIO).test(k));

  const isVideo = Boolean(rules?.videoContainers[choice.format]);
  const process = media.buildProcess(action, bucket, clips, choice, isVideo, output);
  const sendTo = clips[0]?.key ?? '';

  // The API's own parser judges every string as it changes (debounced): the form never runs one it refuses.
  useEffect(() => {
    if (!process) return setVerdict(undefined);
    const timer = setTimeout(() => {
      media.check(bucket, sendTo, process).then(
        (e) => setVerdict({ process, error: e ? `${e.code}: ${e.message}` : undefined }),
        (e) => setVerdict({ process, error: message(e) }),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [process]);
  const checked = verdict?.process === process;
  const valid = checked && !verdict?.error;

  // The submitted task, live from the event stream (the same one the Tasks page reads).
  useEffect(() => {
    if (!submitted) return;
    const es = new EventSource('/-/console/api/events');
    es.addEventListener('task', (e) => {
      const t = JSON.parse((e as MessageEvent<string>).data) as TaskView;
      if (t.taskId === submitted) setTask(t);
    });
    return () => es.close();
  }, [submitted]);

  const pickAction = (a: ComposeAction) => {
    setAction(a);
    if (!rules) return;
    const formats = a === 'video/concat' ? Object.keys(rules.videoContainers) : Object.keys(rules.audioContainers);
    const format = formats.includes(choice.format) ? choice.format : (formats[0] ?? '');
    setChoice(fitChoice(rules, { ...choice, format }));
    setOutput((o) => withExtension(o, format));
    setClips((c) => (a === 'audio/convert' ? c.slice(0, 1) : c).filter((x) => (a === 'video/concat' ? VIDEO : AUDIO).test(x.key)));
  };
  const setFormat = (format: string) => {
    if (!rules) return;
    setChoice(fitChoice(rules, { ...choice, format }));
    setOutput((o) => withExtension(o, format));
  };
  const patchChoice = (p: Partial<OutputChoice>) => setChoice((c) => (rules ? fitChoice(rules, { ...c, ...p }) : { ...c, ...p }));
  const add = (key: string) => setClips((c) => (action === 'audio/convert' ? [{ id: nextId.current++, key, ss: '', t: '' }] : rules && c.length >= rules.maxClips ? c : [...c, { id: nextId.current++, key, ss: '', t: '' }]));
  const moveTo = (from: number, to: number) =>
    setClips((c) => {
      if (from === to || to < 0 || to >= c.length) return c;
      const n = [...c];
      const [x] = n.splice(from, 1);
      n.splice(to, 0, x!);
      return n;
    });
  const patch = (id: number, p: Partial<media.Clip>) => setClips((c) => c.map((x) => (x.id === id ? { ...x, ...p } : x)));
  const showPlan = async () => {
    setPlan({ process, busy: true });
    try {
      setPlan({ process, plan: await media.explain(bucket, sendTo, process) });
    } catch (e) {
      setPlan({ process, error: message(e) });
    }
  };
  const run = async () => {
    setError(undefined);
    setTask(undefined);
    try {
      setSubmitted(await api.submitProcess(bucket, sendTo, process));
    } catch (e) {
      setError(message(e));
    }
  };
  const snippets = useMemo(() => (process && rules ? media.sdkSnippets(location.origin, rules.region, bucket, sendTo, process) : []), [process, rules, bucket, sendTo]);
  const snippet = snippets.find((s) => s.id === sdk) ?? snippets[0];
  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch (e) {
      setError(`Copying failed (${message(e)}): select the text and copy it by hand.`);
    }
  };

  const c = rules ? choicesOf(rules, choice) : undefined;
  const formats = rules ? (wantsVideo ? [...Object.keys(rules.videoContainers), ...Object.keys(rules.audioContainers)] : Object.keys(rules.audioContainers)) : [];
  const outputRef = task?.outputs[0] ? /^oss:\/\/([^/]+)\/(.+)$/.exec(task.outputs[0]) : null;

  return (
    <section class="compose">
      <h2>Compose</h2>
      <div class="row">
        <label>
          Bucket{' '}
          <select value={bucket} onChange={(e) => setBucket(e.currentTarget.value)}>
            <option value="">choose…</option>
            {buckets.map((b) => (
              <option key={b}>{b}</option>
            ))}
          </select>
        </label>
        <label>
          Action{' '}
          <select name="action" value={action} onChange={(e) => pickAction(e.currentTarget.value as ComposeAction)}>
            {ACTIONS.map((a) => (
              <option key={a.id} value={a.id}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorLine error={error} />
      <div class="cols">
        <div>
          <h3>{wantsVideo ? 'Video' : 'Audio'} objects</h3>
          {bucket === '' ? (
            <p class="muted">Choose a bucket to pick clips from.</p>
          ) : available.length === 0 ? (
            <p class="muted">No {wantsVideo ? 'video' : 'audio'} objects at the top of this bucket: upload some in <a href={href.bucket(bucket)}>{bucket}</a>.</p>
          ) : (
            <ul class="pick">
              {available.map((k) => (
                <li key={k}>
                  <button class="small" onClick={() => add(k)} aria-label={`Add ${k}`}>
                    Add
                  </button>{' '}
                  {k}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3>{action === 'audio/convert' ? 'Source' : 'Clips, in order'}</h3>
          {clips.length === 0 && <p class="muted">Add {action === 'audio/convert' ? 'the object to convert' : 'clips'} from the list; drag them (or use ↑ ↓) to reorder, drag the shaded region on a waveform to trim.</p>}
          <ol class="clips">
            {clips.map((clip, i) => {
              const start = secs(clip.ss);
              const len = secs(clip.t);
              return (
                <li
                  key={clip.id}
                  data-key={clip.key}
                  draggable
                  class={dragFrom === i ? 'dragging' : ''}
                  onDragStart={(e) => {
                    setDragFrom(i);
                    e.dataTransfer?.setData('text/plain', String(i));
                  }}
                  onDragOver={(e) => e.preventDefault()}
                  onDrop={(e) => {
                    e.preventDefault();
                    const from = dragFrom ?? Number(e.dataTransfer?.getData('text/plain'));
                    if (Number.isInteger(from)) moveTo(from, i);
                    setDragFrom(undefined);
                  }}
                  onDragEnd={() => setDragFrom(undefined)}
                >
                  <div class="clip-row">
                    <span class="clip-handle" aria-hidden="true">
                      ⠿
                    </span>
                    <span class="clip-key">{clip.key}</span>
                    <label>
                      start s <input class="num" name="ss" inputMode="decimal" value={clip.ss} onInput={(e) => patch(clip.id, { ss: e.currentTarget.value })} />
                    </label>
                    <label>
                      length s <input class="num" name="t" inputMode="decimal" value={clip.t} onInput={(e) => patch(clip.id, { t: e.currentTarget.value })} />
                    </label>
                    <button class="small" onClick={() => moveTo(i, i - 1)} disabled={i === 0} aria-label={`Move ${clip.key} up`}>
                      ↑
                    </button>
                    <button class="small" onClick={() => moveTo(i, i + 1)} disabled={i === clips.length - 1} aria-label={`Move ${clip.key} down`}>
                      ↓
                    </button>
                    <button class="small danger" onClick={() => setClips((cs) => cs.filter((x) => x.id !== clip.id))} aria-label={`Remove ${clip.key}`}>
                      ✕
                    </button>
                  </div>
                  <Waveform
                    bucket={bucket}
                    objectKey={clip.key}
                    height={48}
                    label={`Trim of ${clip.key}`}
                    trim={{ start, end: len ? start + len : undefined }}
                    onTrim={(t) => patch(clip.id, { ss: t.start > 0 ? String(t.start) : '', t: t.end !== undefined ? String(Math.round((t.end - t.start) * 1000) / 1000) : '' })}
                  />
                </li>
              );
            })}
          </ol>
        </div>
      </div>

      <h3>Output</h3>
      {rules && c ? (
        <div class="row output-choice">
          <label>
            Format{' '}
            <select name="format" value={choice.format} onChange={(e) => setFormat(e.currentTarget.value)}>
              {formats.map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
          </label>
          {c.video && (
            <>
              <label>
                Video codec{' '}
                <select name="vcodec" value={choice.vcodec} onChange={(e) => patchChoice({ vcodec: e.currentTarget.value })}>
                  {c.video.videoCodecs.map((v) => (
                    <option key={v}>{v}</option>
                  ))}
                </select>
              </label>
              <label>
                Size{' '}
                <input name="size" class="num" placeholder="as source" pattern="\d*x\d*" title={`WxH, Wx or xH; even sides of ${rules.limits.resolutionSide.join('-')} px`} value={choice.size} onInput={(e) => patchChoice({ size: e.currentTarget.value })} />
              </label>
              <label>
                FPS{' '}
                {c.video.frameRates ? (
                  <select name="fps" value={choice.fps} onChange={(e) => patchChoice({ fps: e.currentTarget.value })}>
                    <option value="">as source</option>
                    {c.video.frameRates.map((f) => (
                      <option key={f}>{f}</option>
                    ))}
                  </select>
                ) : (
                  <input name="fps" class="num" type="number" min={1} max={rules.limits.fps[1]} step="any" placeholder="as source" value={choice.fps} onInput={(e) => patchChoice({ fps: e.currentTarget.value })} />
                )}
              </label>
              <label>
                Quality{' '}
                <select name="rate" value={choice.rate} onChange={(e) => patchChoice({ rate: e.currentTarget.value as OutputChoice['rate'] })}>
                  <option value="">encoder default</option>
                  <option value="crf">constant quality (crf)</option>
                  <option value="vb">bitrate (vb)</option>
                </select>
              </label>
              {choice.rate === 'crf' && (
                <label>
                  crf <input name="crf" class="num" type="number" min={rules.limits.crf[0]} max={rules.limits.crf[1]} value={choice.crf} onInput={(e) => patchChoice({ crf: e.currentTarget.value })} />
                </label>
              )}
              {choice.rate === 'vb' && (
                <label>
                  kbit/s <input name="vb" class="num" type="number" min={rules.limits.videoBitrate[0] / 1000} max={rules.limits.videoBitrate[1] / 1000} value={choice.vbKbps} onInput={(e) => patchChoice({ vbKbps: e.currentTarget.value })} />
                </label>
              )}
              <label>
                Audio codec{' '}
                <select name="acodec" value={choice.acodec} onChange={(e) => patchChoice({ acodec: e.currentTarget.value })}>
                  {c.video.audioCodecs.map((a) => (
                    <option key={a}>{a}</option>
                  ))}
                </select>
              </label>
            </>
          )}
          {!c.video && <span class="muted">codec {c.audioCodec}</span>}
          <label>
            Sample rate{' '}
            <select name="ar" value={choice.sampleRate} onChange={(e) => patchChoice({ sampleRate: e.currentTarget.value })}>
              <option value="">as align clip</option>
              {c.rates.map((r) => (
                <option key={r} value={String(r)}>
                  {r} Hz
                </option>
              ))}
            </select>
          </label>
          <label>
            Channels{' '}
            <select name="ac" value={choice.channels} onChange={(e) => patchChoice({ channels: e.currentTarget.value })}>
              <option value="">as align clip</option>
              {c.channels.map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <label>
            Bitrate kbit/s <input name="ab" class="num" type="number" min={rules.limits.audioBitrate[0] / 1000} max={rules.limits.audioBitrate[1] / 1000} placeholder="default" value={choice.bitrateKbps} onInput={(e) => patchChoice({ bitrateKbps: e.currentTarget.value })} />
          </label>
          <label>
            Output key <input name="output" value={output} onInput={(e) => setOutput(e.currentTarget.value)} />
          </label>
        </div>
      ) : (
        <p class="muted">Loading the API's validation tables…</p>
      )}

      <h3>Process string</h3>
      <pre class="info process-preview" tabIndex={0} aria-label="Process string">{process || 'Add clips to build it.'}</pre>
      <div class="row">
        <button class="small" disabled={!process} onClick={() => void copy('process', process)}>
          Copy process string
        </button>
        <span class={`verdict ${verdict?.error && checked ? 'error' : 'muted'}`} role="status">
          {!process ? '' : !checked ? 'Checking with the API…' : verdict?.error ? `The API would refuse it — ${verdict.error}` : `The API accepts it (POST /${sendTo}?x-oss-async-process).`}
        </span>
        {copied && <span class="muted">Copied the {copied}.</span>}
      </div>

      {snippet && (
        <>
          <h3>The same request in code</h3>
          <div class="tabs" role="tablist" aria-label="SDK">
            {snippets.map((s) => (
              <button key={s.id} role="tab" aria-selected={s.id === snippet.id} class={s.id === snippet.id ? 'small tab active' : 'small tab'} onClick={() => setSdk(s.id)}>
                {s.label}
              </button>
            ))}
          </div>
          <pre class={`sdk sdk-${snippet.id}`} role="tabpanel" aria-label={snippet.label} tabIndex={0}>
            {snippet.code}
          </pre>
          <button class="small" onClick={() => void copy(`${snippet.label} code`, snippet.code)}>
            Copy {snippet.label} code
          </button>
        </>
      )}

      <h3>Plan</h3>
      <div class="row">
        <button class="small" disabled={!valid} onClick={() => void showPlan()}>
          Show the plan (--explain)
        </button>
        <button disabled={!valid} onClick={() => void run()}>
          Run task
        </button>
      </div>
      {plan && plan.process !== process && <span class="muted">The plan below is for an earlier version of the request.</span>}
      {plan?.busy && <span class="muted">Probing the inputs…</span>}
      {plan?.error && (
        <span class="error plan-error" role="alert">
          {plan.error}
        </span>
      )}
      {plan?.plan && (
        <div class="plan">
          <h4>Inputs (in output order)</h4>
          <ul class="plan-inputs">
            {plan.plan.inputs.map((i) => (
              <li key={i.index}>{i.line}</li>
            ))}
          </ul>
          <h4>Decisions</h4>
          <ul class="plan-decisions">
            {plan.plan.decisions.map((d, i) => (
              <li key={i}>{d}</li>
            ))}
          </ul>
          <div>
            Output: {plan.plan.output} (expected {plan.plan.expectedDurationSec.toFixed(3)} s)
          </div>
          <h4>FFmpeg command</h4>
          <pre class="plan-command" tabIndex={0} aria-label="FFmpeg command">{plan.plan.command}</pre>
        </div>
      )}
      {submitted && (
        <p>
          Task <code>{submitted}</code> submitted: <a href="#/tasks">watch it in Tasks</a>.
        </p>
      )}
      {submitted && (
        <div class={`run ${(task?.status ?? 'queued').toLowerCase()}`} data-task-id={submitted} aria-live="polite">
          <span class="run-status">{task?.status ?? 'Submitted'}</span> <progress max={100} value={task?.progress ?? 0} /> <span class="run-progress">{task?.progress ?? 0} %</span>
          {task?.code && (
            <span class="error">
              {' '}
              {task.code}: {task.message}
            </span>
          )}
          {task?.status === 'Succeeded' && outputRef && (
            <div class="run-output">
              Output: <a href={href.object(outputRef[1]!, outputRef[2]!)}>{task.outputs[0]}</a>
              {VIDEO.test(outputRef[2]!) ? <video controls preload="metadata" class="player output-player" src={api.ossPath(outputRef[1]!, outputRef[2]!)} /> : <audio controls preload="metadata" class="player output-player" src={api.ossPath(outputRef[1]!, outputRef[2]!)} />}
            </div>
          )}
        </div>
      )}
    </section>
  );
}
