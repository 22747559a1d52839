/** The client as read-only commands use it: reads on the read replica when there is one. */
export { readingClient } from '../../runtime/orbitClient';
