/**
 * A waveform drawn by wavesurfer.js from the server's peaks (GET /-/console/api/media/waveform): the page
 * never downloads or decodes the audio for it. With `media` it follows (and seeks) that player; with
 * `trim` it shows the clip's trim as a draggable, resizable region.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import WaveSurfer from 'wavesurfer.js';
import RegionsPlugin, { type Region } from 'wavesurfer.js/dist/plugins/regions.esm.js';
import { message } from './ui.js';
import * as media from './media.js';

export interface Trim {
  /** Seconds. */
  start: number;
  /** Seconds; undefined = to the end. */
  end?: number;
}

export function Waveform(props: { bucket: string; objectKey: string; media?: HTMLMediaElement | null; height?: number; trim?: Trim; onTrim?: (t: Trim) => void; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const region = useRef<Region | undefined>(undefined);
  const onTrim = useRef(props.onTrim);
  onTrim.current = props.onTrim;
  const trim = useRef(props.trim);
  trim.current = props.trim;
  const [status, setStatus] = useState('Loading the waveform…');
  const [failed, setFailed] = useState(false);
  const [duration, setDuration] = useState<number>();

  useEffect(() => {
    if (props.media === null) return;
    let ws: WaveSurfer | undefined;
    let gone = false;
    const t0 = performance.now();
    media.waveform(props.bucket, props.objectKey).then(
      (w) => {
        if (gone || !box.current) return;
        const fetched = performance.now();
        setDuration(w.durationSec);
        const regions = props.onTrim ? RegionsPlugin.create() : undefined;
        ws = WaveSurfer.create({
          container: box.current,
          height: props.height ?? 96,
          // Top half from the maxima, bottom half from the minima: both are peaks of the mono mix.
          peaks: [Float32Array.from(w.max), Float32Array.from(w.min)],
          duration: w.durationSec,
          normalize: true,
          waveColor: '#7a8fb0',
          progressColor: '#2d5fa8',
          cursorColor: '#c0392b',
          barWidth: 2,
          barGap: 1,
          interact: !props.onTrim,
          ...(props.media ? { media: props.media } : {}),
          plugins: regions ? [regions] : [],
          // The page's CSP admits wavesurfer's own <style> only with the nonce the server gave this page.
          cspNonce: document.querySelector<HTMLMetaElement>('meta[name="medley-style-nonce"]')?.content ?? '',
        });
        ws.once('redrawcomplete', () => {
          const ms = performance.now() - t0;
          box.current?.setAttribute('data-render-ms', String(Math.round(ms)));
          box.current?.setAttribute('data-peaks', String(w.max.length));
          setStatus(`${w.max.length} peaks, ${w.durationSec.toFixed(1)} s · ${w.cached ? 'cached' : `computed in ${((w.computeMs ?? 0) / 1000).toFixed(1)} s`} · drawn in ${Math.round(ms)} ms (fetch ${Math.round(fetched - t0)} ms)`);
        });
        if (regions) {
          // Added once the duration is known: a region made before that collapses to a marker at 0.
          ws.once('ready', () => {
            const t = trim.current;
            const start = Math.min(t?.start ?? 0, w.durationSec);
            region.current = regions.addRegion({ start, end: Math.max(start, Math.min(t?.end ?? w.durationSec, w.durationSec)), color: 'rgba(255, 170, 0, 0.35)', drag: true, resize: true });
            box.current?.setAttribute('data-trim-ready', 'true');
          });
          regions.on('region-updated', (r) => {
            const start = Math.max(0, Math.round(r.start * 1000) / 1000);
            const stop = Math.round(r.end * 1000) / 1000;
            onTrim.current?.({ start, end: stop >= w.durationSec - 0.001 ? undefined : stop });
          });
        }
      },
      (e) => {
        if (gone) return;
        setFailed(true);
        setStatus(`No waveform: ${message(e)}`);
      },
    );
    return () => {
      gone = true;
      ws?.destroy();
      region.current = undefined;
    };
  }, [props.bucket, props.objectKey, props.media]);

  // Trim typed in the fields: move the region to match.
  useEffect(() => {
    const r = region.current;
    if (!r || duration === undefined) return;
    const start = Math.min(props.trim?.start ?? 0, duration);
    const end = Math.min(props.trim?.end ?? duration, duration);
    if (Math.abs(r.start - start) > 0.0005 || Math.abs(r.end - end) > 0.0005) r.setOptions({ start, end: Math.max(end, start) });
  }, [props.trim?.start, props.trim?.end, duration]);

  return (
    <div class="waveform-wrap">
      <div class="waveform" ref={box} role="img" aria-label={props.label} />
      <small class={failed ? 'waveform-status error' : 'waveform-status muted'}>{status}</small>
    </div>
  );
}
