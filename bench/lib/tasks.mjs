/**
 * Shared by the task benchmarks: the official clients against a running `medley serve` (ali-oss to upload
 * and submit x-oss-async-process, @alicloud/pop-core for IMM GetTask/ListTasks), waiting for a task's end,
 * and the per-phase timings the workers log with every succeeded task.
 */
import { createRequire } from 'node:module';
import { KEY, SECRET, sleep } from './medley.mjs';

const require = createRequire(import.meta.url);
const OSS = require('ali-oss');
const RPCClient = require('@alicloud/pop-core');

export function taskClients(server, bucket) {
  const oss = new OSS({ accessKeyId: KEY, accessKeySecret: SECRET, endpoint: server.url, bucket, region: 'oss-cn-hangzhou', timeout: 600_000 });
  const imm = new RPCClient({ accessKeyId: KEY, accessKeySecret: SECRET, endpoint: server.url, apiVersion: '2020-09-30' });
  /** POST ?x-oss-async-process on `key`: resolves with the task id. */
  const submit = async (key, processString) => {
    const params = oss._objectRequestParams('POST', key, { subres: { 'x-oss-async-process': '' } });
    params.content = `x-oss-async-process=${processString}`;
    params.successStatuses = [200];
    const r = await oss.request(params);
    return JSON.parse(r.data.toString()).TaskId;
  };
  /** GetTask's Status ('Running', 'Succeeded'); throws when the task failed. */
  const status = async (taskId) => {
    try {
      const r = await imm.request('GetTask', { ProjectName: 'medley-default', TaskId: taskId, TaskType: 'MediaConvert' }, { method: 'POST' });
      return r.Status;
    } catch (e) {
      if (e.data?.Status === 'Failed') throw new Error(`task ${taskId} failed: ${e.data.Code} ${e.data.Message}`);
      throw e;
    }
  };
  /** Polls GetTask every `pollMs` until the task is no longer Running; resolves with its status. */
  const waitFor = async (taskId, pollMs) => {
    for (;;) {
      const s = await status(taskId);
      if (s !== 'Running') return s;
      await sleep(pollMs);
    }
  };
  /** Every task of the default project ended (one ListTasks per sweep, not one GetTask per task). */
  const waitAll = async (pollMs) => {
    for (;;) {
      const r = await imm.request('ListTasks', { ProjectName: 'medley-default', Status: 'Running', MaxResults: 100 }, { method: 'POST' });
      if (r.Tasks.length === 0) return;
      await sleep(pollMs);
    }
  };
  return { oss, imm, submit, status, waitFor, waitAll };
}

/**
 * Resolves when the server logs that `taskId` succeeded (MEDLEY_LOG_LEVEL=info): completion seen without
 * polling the API (no requests compete with the task for the cores). The line is written after the commit
 * that makes Succeeded visible and after the work directory is removed, so the time is an upper bound.
 */
export function loggedSuccess(server, taskId) {
  return new Promise((resolve, reject) => {
    let tail = '';
    const onData = (d) => {
      tail = (tail + d).slice(-65536);
      if (tail.includes(taskId) && /task (succeeded|failed|crashed)/.test(tail)) {
        const line = tail.split('\n').find((l) => l.includes(taskId) && /task (succeeded|failed|crashed)/.test(l));
        if (!line) return;
        server.child.stdout.off('data', onData);
        if (line.includes('task succeeded')) resolve();
        else reject(new Error(`task ${taskId} did not succeed: ${line}`));
      }
    };
    server.child.stdout.on('data', onData);
  });
}

/**
 * The phase timings (ms) of `taskId` from the worker's 'task succeeded' log line (MEDLEY_LOG_LEVEL=info),
 * or undefined when the line is not there (yet).
 */
export function phasesOf(logText, taskId) {
  for (const line of logText.split('\n')) {
    if (!line.includes(taskId) || !line.includes('task succeeded')) continue;
    try {
      const o = JSON.parse(line);
      if (o.taskId === taskId && o.phases) return o.phases;
    } catch {
      // not a JSON log line
    }
  }
  return undefined;
}

/** Per-phase medians of a list of phase records, in the order the phases first appear. */
export function medianPhases(list) {
  const out = {};
  const keys = [...new Set(list.flatMap((p) => Object.keys(p)))];
  for (const k of keys) {
    const xs = list.map((p) => p[k] ?? 0).sort((a, b) => a - b);
    out[k] = +xs[Math.floor(xs.length / 2)].toFixed(1);
  }
  return out;
}
