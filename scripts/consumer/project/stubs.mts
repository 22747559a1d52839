// Declared stand-ins for the user code the spec's snippets call (a database, a cache, services).
// The snippets are compiled against these; only the recovery snippets, which need none, are run.
export declare const db: {
  query(text: string, params?: readonly unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
};
export declare const redis: {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>;
};
export declare const performImport: (batchId: unknown) => Promise<{ importId: string }>;
export declare const sendNotification: (userId: unknown) => Promise<string>;
export declare const paymentGateway: {
  charge(req: { orderId: unknown; idempotencyKey: string }): Promise<{ chargeId: string }>;
};
export declare const emailService: { send(to: unknown, subject: string): Promise<void> };
export declare const emailLog: { exists(id: string): Promise<boolean>; record(id: string): Promise<void> };
// Block "Log messages" prints these.
export declare const runId: string;
export declare const pipelineName: string;
export declare const stepsExecuted: number;
export declare const error: string;
