import { Client } from 'pg';
import { backendCpu, backendDelta } from './cpu';
import { nowMs } from './stats';

/**
 * The raw cost of durability on this machine: single-row INSERT transactions (autocommit, so one
 * durable commit each) through `pg` from this Node process, with 1 and with 16 clients, for a
 * fixed window. Every step of a pipeline needs at least one such commit, so S1/S2 are judged
 * as a ratio to these figures.
 */
export class BaselineTable {
  private constructor(
    private readonly url: string,
    private readonly table: string,
  ) {}

  static async create(url: string, schema: string): Promise<BaselineTable> {
    const table = `"${schema}".bench_baseline`;
    const c = new Client({ connectionString: url, application_name: 'orbit-bench' });
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, client integer NOT NULL, payload text NOT NULL)`,
      );
    } finally {
      await c.end();
    }
    return new BaselineTable(url, table);
  }

  /**
   * Inserts per second with `clients` connections busy for `seconds` (after a short warm-up), and
   * the CPU one insert costs this process and the server.
   */
  async measure(clients: number, seconds: number): Promise<BaselineWindow> {
    const conns = await Promise.all(
      Array.from({ length: clients }, async () => {
        const c = new Client({ connectionString: this.url, application_name: 'orbit-bench' });
        c.on('error', () => undefined);
        await c.connect();
        return c;
      }),
    );
    const statement = (i: number) => ({
      name: 'bench.baseline.insert',
      text: `INSERT INTO ${this.table} (client, payload) VALUES ($1, $2)`,
      values: [i, 'x'.repeat(64)],
    });
    try {
      let counting = false;
      let done = 0;
      let stop = false;
      const lane = async (c: Client, i: number) => {
        while (!stop) {
          await c.query(statement(i));
          if (counting) done++;
        }
      };
      const lanes = conns.map(lane);
      await new Promise((r) => setTimeout(r, Math.min(500, seconds * 200)));
      const pids = conns.map((c) => (c as unknown as { processID: number }).processID);
      const server0 = backendCpu(pids);
      const node0 = process.cpuUsage();
      counting = true;
      const t0 = nowMs();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      counting = false;
      const elapsed = nowMs() - t0;
      const node = process.cpuUsage(node0);
      const server = backendDelta(server0, backendCpu(pids));
      stop = true;
      await Promise.all(lanes);
      return {
        tps: (done / elapsed) * 1000,
        nodeCpuMsPerOp: (node.user + node.system) / 1000 / done,
        serverCpuMsPerOp: server === null ? null : server / done,
      };
    } finally {
      await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
    }
  }
}

export interface BaselineWindow {
  readonly tps: number;
  /** CPU of this process per insert, ms. */
  readonly nodeCpuMsPerOp: number;
  /** CPU of the server backends per insert, ms (null when /proc of the server is not readable). */
  readonly serverCpuMsPerOp: number | null;
}
