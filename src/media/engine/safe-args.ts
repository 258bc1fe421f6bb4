/** The per-input options now live with the planner (pure); the engine re-exports them from here. */
export { FORMAT_WHITELIST, SINGLE_FILE_DEMUXERS, inputArgs, inputDemuxer, isSingleFileDemuxer, type SingleFileDemuxer } from '../plan/input-args.js';
