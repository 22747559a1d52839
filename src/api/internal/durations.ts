/** Durations as the CLI reads and prints them (`30s`, `10m`), and its checks of the duration settings. */
export { checkDurationSettings, formatDuration, leaseFromEnv, parseDuration } from '../../runtime/duration';
