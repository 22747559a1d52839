/** src/api/internal/ (see errors.ts): the check of `orbit schedule add`'s input, before it connects. */
export { checkSchedule } from '../../pipeline/cronSchedule';
export type { JsonObject } from '../../pipeline/types';
