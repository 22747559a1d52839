/** The client settings' defaults, as the CLI shows them (`orbit config`). */
export { DEFAULT_MAX_RESULT_BYTES } from '../../runtime/settings';
