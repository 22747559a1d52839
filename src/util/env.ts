/** Environment variables as a plain record (the published types must not need @types/node). */
export type Env = Readonly<Record<string, string | undefined>>;
