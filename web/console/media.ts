/**
 * The console's media API (/-/console/api/media/, src/http/console/media-api.ts) as the pages use it, and
 * the compose model: the process string the form builds and the same request in each SDK.
 */
import { ApiError, b64, call } from './api.js';

export type AudioCodec = string;
export interface MediaRules {
  region: string;
  actions: string[];
  maxClips: number;
  audioContainers: Record<string, { codec: string }>;
  videoContainers: Record<string, { audioCodecs: string[]; videoCodecs: string[]; audioRates: Record<string, number[] | null>; frameRates: string[] | null }>;
  sampleRates: number[];
  codecLimits: Record<string, { maxRate?: number; rates?: number[]; maxChannels?: number; channels?: number }>;
  limits: { channels: [number, number]; audioBitrate: [number, number]; fps: [number, number]; resolutionSide: [number, number]; videoBitrate: [number, number]; crf: [number, number] };
}

export interface WaveformData {
  bins: number;
  sampleRate: number;
  durationSec: number;
  min: number[];
  max: number[];
  cached: boolean;
  computeMs?: number;
}

export interface Explanation {
  inputs: Array<{ index: number; align: boolean; name: string; line: string }>;
  decisions: string[];
  output: string;
  expectedDurationSec: number;
  command: string;
}

let rulesOnce: Promise<MediaRules> | undefined;
export const rules = () => (rulesOnce ??= call('GET', '/-/console/api/media/rules').then((r) => r.json() as Promise<MediaRules>));

export async function waveform(bucket: string, key: string): Promise<WaveformData> {
  return (await call('GET', `/-/console/api/media/waveform?${new URLSearchParams({ bucket, key })}`)).json() as Promise<WaveformData>;
}

const post = async <T>(name: string, body: unknown): Promise<T> => (await call('POST', `/-/console/api/media/${name}`, JSON.stringify(body), { 'Content-Type': 'application/json' })).json() as Promise<T>;
/** The API's verdict on a process string (the handler's own parser): undefined when valid, else the error. */
export async function check(bucket: string, key: string, process: string): Promise<ApiError | undefined> {
  try {
    await post('check', { bucket, key, process });
    return undefined;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
}
export const explain = (bucket: string, key: string, process: string) => post<Explanation>('explain', { bucket, key, process });

// ---------------------------------------------------------------------------------------------------------
// The compose model

export type ComposeAction = 'audio/concat' | 'video/concat' | 'audio/convert';

export interface Clip {
  key: string;
  /** Seconds, as typed ('' = from the start / to the end). */
  ss: string;
  t: string;
}

export interface OutputChoice {
  format: string;
  /** '' = from the align clip (the API's default). */
  sampleRate: string;
  channels: string;
  /** kbit/s. */
  bitrateKbps: string;
  /** Video containers only. */
  acodec: string;
  vcodec: string;
  size: string;
  fps: string;
  rate: 'crf' | 'vb' | '';
  crf: string;
  vbKbps: string;
}

const ms = (v: string, name: string) => (v.trim() && Number(v) > 0 ? `,${name}_${Math.round(Number(v) * 1000)}` : '');

/** The transcoding parameters, in the documented order of the seeds (f, codecs, video, audio). */
export function outputParams(o: OutputChoice, isVideoContainer: boolean): string {
  let s = `,f_${o.format}`;
  if (isVideoContainer) {
    if (o.vcodec) s += `,vcodec_${o.vcodec}`;
    if (o.size.trim()) s += `,s_${o.size.trim()}`;
    if (o.fps.trim()) s += `,fps_${o.fps.trim()}`;
    if (o.rate === 'crf' && o.crf.trim()) s += `,crf_${o.crf.trim()}`;
    if (o.rate === 'vb' && o.vbKbps.trim()) s += `,vb_${Math.round(Number(o.vbKbps) * 1000)}`;
    if (o.acodec) s += `,acodec_${o.acodec}`;
  }
  if (o.sampleRate) s += `,ar_${o.sampleRate}`;
  if (o.channels) s += `,ac_${o.channels}`;
  if (o.bitrateKbps.trim()) s += `,ab_${Math.round(Number(o.bitrateKbps) * 1000)}`;
  return s;
}

/**
 * The x-oss-async-process string: the first clip is the object the request is sent to (its trim is the
 * action's ss/t), the others follow as /sur clips in order; the output goes to `output` in `bucket`.
 */
export function buildProcess(action: ComposeAction, bucket: string, clips: Clip[], o: OutputChoice, isVideoContainer: boolean, output: string): string {
  const [first, ...rest] = action === 'audio/convert' ? clips.slice(0, 1) : clips;
  if (!first || !bucket) return '';
  const sur = rest.map((c) => `/sur,o_${b64(c.key)}${ms(c.ss, 'ss')}${ms(c.t, 't')}`).join('');
  return `${action}${outputParams(o, isVideoContainer)}${ms(first.ss, 'ss')}${ms(first.t, 't')}${sur}|sys/saveas,o_${b64(output)},b_${b64(bucket)}`;
}

const q = (s: string) => JSON.stringify(s);

/** The same request with each SDK, ready to run against this server (credentials from the environment). */
export function sdkSnippets(endpoint: string, region: string, bucket: string, key: string, process: string): Array<{ id: string; label: string; code: string }> {
  return [
    {
      id: 'oss2',
      label: 'Python (oss2)',
      code: `# pip install oss2   (2.18.4 or later); OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET in the environment
import oss2
from oss2.credentials import EnvironmentVariableCredentialsProvider

auth = oss2.ProviderAuthV4(EnvironmentVariableCredentialsProvider())
bucket = oss2.Bucket(auth, ${q(endpoint)}, ${q(bucket)}, region=${q(region)})
process = ${q(process)}
result = bucket.async_process_object(${q(key)}, process)
print("TaskId:", result.task_id)
`,
    },
    {
      id: 'java',
      label: 'Java (aliyun-sdk-oss)',
      code: `// com.aliyun.oss:aliyun-sdk-oss 3.17.4 or later; OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET in the environment
import com.aliyun.oss.ClientBuilderConfiguration;
import com.aliyun.oss.OSS;
import com.aliyun.oss.OSSClientBuilder;
import com.aliyun.oss.common.auth.CredentialsProviderFactory;
import com.aliyun.oss.common.comm.SignVersion;
import com.aliyun.oss.model.AsyncProcessObjectRequest;
import com.aliyun.oss.model.AsyncProcessObjectResult;

public class Compose {
    public static void main(String[] args) throws Exception {
        ClientBuilderConfiguration conf = new ClientBuilderConfiguration();
        conf.setSignatureVersion(SignVersion.V4);
        conf.setSLDEnabled(true); // path-style requests: ${endpoint}/<bucket>/<key>
        OSS ossClient = OSSClientBuilder.create()
                .endpoint(${q(endpoint)})
                .credentialsProvider(CredentialsProviderFactory.newEnvironmentVariableCredentialsProvider())
                .clientConfiguration(conf)
                .region(${q(region)})
                .build();
        try {
            String process = ${q(process)};
            AsyncProcessObjectResult result = ossClient.asyncProcessObject(new AsyncProcessObjectRequest(${q(bucket)}, ${q(key)}, process));
            System.out.println("TaskId: " + result.getTaskId());
        } finally {
            ossClient.shutdown();
        }
    }
}
`,
    },
    {
      id: 'go',
      label: 'Go (alibabacloud-oss-go-sdk-v2)',
      code: `// go get github.com/aliyun/alibabacloud-oss-go-sdk-v2; OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET in the environment
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

func main() {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewEnvironmentVariableCredentialsProvider()).
		WithRegion(${q(region)}).
		WithEndpoint(${q(endpoint)}).
		WithUsePathStyle(true)
	client := oss.NewClient(cfg)
	result, err := client.AsyncProcessObject(context.TODO(), &oss.AsyncProcessObjectRequest{
		Bucket:       oss.Ptr(${q(bucket)}),
		Key:          oss.Ptr(${q(key)}),
		AsyncProcess: oss.Ptr(${q(process)}),
	})
	if err != nil {
		log.Fatalf("async process: %v", err)
	}
	fmt.Println("TaskId:", result.TaskId)
}
`,
    },
    {
      id: 'ali-oss',
      label: 'Node.js (ali-oss)',
      code: `// npm install ali-oss   (6.x has no async-process method: this is the request the SDK signs itself)
const OSS = require('ali-oss');

const client = new OSS({
  endpoint: ${q(endpoint)},
  sldEnable: true, // path-style requests
  region: ${q(`oss-${region}`)},
  authorizationV4: true,
  accessKeyId: process.env.OSS_ACCESS_KEY_ID,
  accessKeySecret: process.env.OSS_ACCESS_KEY_SECRET,
  bucket: ${q(bucket)},
});

async function main() {
  const processString = ${q(process)};
  const params = client._objectRequestParams('POST', ${q(key)}, { subres: { 'x-oss-async-process': '' } });
  params.content = \`x-oss-async-process=\${processString}\`;
  params.successStatuses = [200];
  const result = await client.request(params);
  console.log('TaskId:', JSON.parse(result.data.toString()).TaskId);
}

main().catch((e) => { console.error(e); process.exit(1); });
`,
    },
  ];
}
