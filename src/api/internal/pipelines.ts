/** Loading a pipelines module into the registry the CLI's client uses. */
export { isPipeline } from '../../pipeline/definePipeline';
export { registry, type Registry } from '../../pipeline/registry';
export type { Pipeline } from '../../pipeline/types';
