/** `orbit db` and the settings' defaults: the embedded server of a directory, where it lives, how it is described. */
export {
  embeddedStatus,
  ensureEmbeddedServer,
  stopEmbeddedServer,
  type EmbeddedStatus,
  type EmbeddedServer,
} from '../../server/embeddedServer';
export { describeDatabase, embeddedHome, projectRoot, urlLocation } from '../../server/resolveDatabase';
export { processHost } from '../../runtime/processHost';
