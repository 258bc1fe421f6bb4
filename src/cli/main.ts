#!/usr/bin/env node
/**
 * The `medley` command. The only module that reads argv and the environment; it builds a Config and
 * hands it down.
 */
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, settingSpecs, type SettingKey } from '../config.js';
import { VERSION } from '../version.js';
import type { ProcessCommandOptions } from './process-command.js';

// Each subcommand's implementation is loaded only when that subcommand runs (dynamic import()), so
// `medley --version` and `medley process` do not load the server, the database drivers, the logger or
// the S3 client. A new subcommand: declare it below and import its module inside its action.
const load = {
  app: () => import('../app.js'),
  process: () => import('./process-command.js'),
  doctor: () => import('./doctor-command.js'),
};

const program = new Command('medley')
  .description('Self-hosted, API-compatible OSS object storage and media processing.')
  .version(VERSION);

const serve = program.command('serve').description('serve the OSS-compatible API (what `npm start` runs)');
for (const s of settingSpecs) {
  serve.addOption(new Option(s.flag, `${s.help} [env ${s.env}${s.def !== undefined ? `, default ${s.def}` : ''}]`));
}
/** Flags, then environment, then defaults; an invalid setting exits with status 2 naming it. */
function configFrom(opts: Partial<Record<SettingKey, string>>) {
  try {
    return loadConfig(opts, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
}

/** SIGINT/SIGTERM: stop accepting, hand running tasks back, close the database, exit. */
function exitOnSignals(app: { stop(): Promise<void>; log: { info(o: object, m: string): void; error(o: object, m: string): void } }): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

serve.action(async (opts: Partial<Record<SettingKey, string>>) => {
  const config = configFrom(opts);
  const { startApp } = await load.app();
  const app = await startApp(config, process.env);
  const keyLine =
    app.root.source === 'config'
      ? `AccessKeyId ${app.root.accessKeyId} (from configuration)`
      : `AccessKeyId ${app.root.accessKeyId}\n  AccessKeySecret ${app.root.secret}\n  (${app.root.source === 'generated' ? 'generated now' : 'generated earlier'}; kept in ${app.config.dataDir}/credentials.json — set MEDLEY_ACCESS_KEY_ID/SECRET to choose your own)`;
  process.stdout.write(
    `Medley ${VERSION} listening on ${app.http.url}\n` +
      `  region ${config.region}; virtual-hosted buckets at ${new URL(app.http.url).protocol}//<bucket>.${config.domain}:${app.http.port}\n` +
      `  data dir ${config.dataDir}\n` +
      `  IMM API on the same port; ${app.pool.concurrency} media worker${app.pool.concurrency === 1 ? '' : 's'}\n` +
      `  MNS (message service) endpoint ${app.mnsServer.url} (account ${config.accountId})\n` +
      `  ${keyLine}\n`,
  );
  exitOnSignals(app);
});

const worker = program
  .command('worker')
  .description('run media task workers only, on the same data directory as a `medley serve` (one machine: the embedded SQLite database is a local file)');
for (const s of settingSpecs) {
  if (['host', 'port', 'domain', 'mnsPort'].includes(s.key)) continue;
  worker.addOption(new Option(s.flag, `${s.help} [env ${s.env}${s.def !== undefined ? `, default ${s.def}` : ''}]`));
}
worker.action(async (opts: Partial<Record<SettingKey, string>>) => {
  const config = configFrom(opts);
  const { startWorkerApp } = await load.app();
  const app = await startWorkerApp(config, process.env);
  process.stdout.write(`Medley ${VERSION} worker: ${app.pool.concurrency} media worker${app.pool.concurrency === 1 ? '' : 's'} on data dir ${config.dataDir}\n`);
  exitOnSignals(app);
});

program
  .command('process')
  .description('run a media request locally; the folder stands for the bucket')
  .argument('[process-string]', "an x-oss-async-process string, e.g. 'audio/concat,f_mp3/pre,o_aW50cm8ubXAz|sys/saveas,o_b3V0LnthdXRvZXh0fQ'")
  .requiredOption('--dir <folder>', 'the folder standing for the bucket: sources are read and saveas outputs written inside it')
  .option('--source <name>', 'the object the request is sent to (with a process string)')
  .option('--imm <request.json>', 'a CreateMediaConvertTask request (JSON) instead of a process string')
  .option('--out <file>', 'write the result here instead of the saveas name')
  .option('--explain', 'print the probed inputs, the decisions and the exact FFmpeg command without running it')
  .option('--timeout <seconds>', 'give up after this long', '3600')
  .option('--ffmpeg <path>', 'ffmpeg binary [env MEDLEY_FFMPEG]')
  .option('--ffprobe <path>', 'ffprobe binary [env MEDLEY_FFPROBE]')
  .action(async (processString: string | undefined, opts: ProcessCommandOptions) => {
    const { runProcessCommand } = await load.process();
    const code = await runProcessCommand(processString, { ...opts, ffmpeg: opts.ffmpeg ?? process.env.MEDLEY_FFMPEG, ffprobe: opts.ffprobe ?? process.env.MEDLEY_FFPROBE }, process.env);
    process.exitCode = code;
  });

program
  .command('doctor')
  .description('report the FFmpeg engines found, their versions and the encoders Medley needs')
  .option('--ffmpeg <path>', 'ffmpeg binary [env MEDLEY_FFMPEG]')
  .option('--ffprobe <path>', 'ffprobe binary [env MEDLEY_FFPROBE]')
  .option('--data-dir <dir>', 'data directory whose volume is checked [env MEDLEY_DATA_DIR, default ./data]')
  .option('--min-free-disk <size>', 'free-disk reserve to check against [env MEDLEY_MIN_FREE_DISK, default 1GiB]')
  .option('--json', 'print JSON')
  .action(async (opts: { ffmpeg?: string; ffprobe?: string; json?: boolean; dataDir?: string; minFreeDisk?: string }) => {
    const env = process.env;
    const { runDoctor } = await load.doctor();
    process.exitCode = await runDoctor(
      { ffmpeg: opts.ffmpeg ?? env.MEDLEY_FFMPEG, ffprobe: opts.ffprobe ?? env.MEDLEY_FFPROBE, json: opts.json, dataDir: opts.dataDir ?? (env.MEDLEY_DATA_DIR || undefined), minFreeDisk: opts.minFreeDisk ?? (env.MEDLEY_MIN_FREE_DISK || undefined) },
      env,
    );
  });

// Subcommands whose very definitions import the database and storage layers are registered only when they
// are named (or help is asked for), so `medley --version`, `process` and `serve` start without them.
const heavyCommands: Record<string, () => Promise<void>> = {
  migrate: async () => (await import('./migrate-command.js')).registerMigrateCommand(program, configFrom),
  keys: async () => (await import('./keys-command.js')).registerKeysCommand(program, configFrom),
};
const named = process.argv[2];
const wantsHelp = named === undefined || named === 'help' || named === '--help' || named === '-h';
for (const [name, register] of Object.entries(heavyCommands)) if (wantsHelp || name === named) await register();

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
