/** The model copies this node runs or ran lately, for `GET /allerac/v1/models/transfers`. */

/** Where a transfer stands. */
export type TransferStatus = 'copying' | 'verifying' | 'done' | 'failed';

/** One copy of a model to this node. */
export interface Transfer {
  id: string;
  /** The model as this node will list it. */
  model: string;
  /** The node it comes from (its name), or `internet`. */
  node: string;
  source: 'peer' | 'internet';
  completed: number;
  total: number;
  status: TransferStatus;
  error?: string;
  startedAt: number;
  updatedAt: number;
}

/** Finished transfers kept for the UI to show how they ended. */
export const MAX_FINISHED_TRANSFERS = 20;

/** The table of transfers; a handle per transfer updates its row. */
export class TransferTable {
  private seq = 0;
  private readonly rows = new Map<string, Transfer>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Every transfer, newest first. */
  list(): Transfer[] {
    return [...this.rows.values()].reverse().map((row) => ({ ...row }));
  }

  /** Starts a row. */
  begin(init: Pick<Transfer, 'model' | 'node' | 'source'>): TransferHandle {
    const at = this.now();
    const row: Transfer = {
      id: `t${++this.seq}`,
      ...init,
      completed: 0,
      total: 0,
      status: 'copying',
      startedAt: at,
      updatedAt: at,
    };
    this.rows.set(row.id, row);
    return new TransferHandle(row, () => {
      row.updatedAt = this.now();
      this.prune();
    });
  }

  private prune(): void {
    const finished = [...this.rows.values()].filter(
      (row) => row.status === 'done' || row.status === 'failed',
    );
    for (const row of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_TRANSFERS)))
      this.rows.delete(row.id);
  }
}

/** Updates one transfer's row. */
export class TransferHandle {
  private readonly layers = new Map<string, { total: number; completed: number }>();

  constructor(
    private readonly row: Transfer,
    private readonly touched: () => void,
  ) {}

  get id(): string {
    return this.row.id;
  }

  /** One of Ollama's pull progress objects. */
  progress(object: Record<string, unknown>): void {
    const { digest, total, completed, status } = object;
    if (typeof digest === 'string' && typeof total === 'number') {
      this.layers.set(digest, { total, completed: typeof completed === 'number' ? completed : 0 });
      let sumTotal = 0;
      let sumCompleted = 0;
      for (const layer of this.layers.values()) {
        sumTotal += layer.total;
        sumCompleted += layer.completed;
      }
      this.row.total = sumTotal;
      this.row.completed = sumCompleted;
    }
    if (status === 'verifying sha256 digest') this.row.status = 'verifying';
    this.touched();
  }

  done(): void {
    this.row.status = 'done';
    this.row.completed = this.row.total;
    this.touched();
  }

  failed(error: string): void {
    this.row.status = 'failed';
    this.row.error = error;
    this.touched();
  }
}
