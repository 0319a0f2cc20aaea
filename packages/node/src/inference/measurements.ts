import type { CandidateMeasurements } from '@allerac/router';
import { Ewma } from '@allerac/router';

interface PeerRecord {
  perModel: Map<string, { tokensPerSecond: Ewma; ttftMs: Ewma }>;
  recentFailures: number;
  lastFailureAt?: number;
}

/** Failures older than this are forgotten entirely (the router also fades them). */
const FAILURE_MEMORY_MS = 5 * 60_000;

/** What this node has measured about each peer: throughput and TTFT per model (EWMA), and failures. */
export class PeerMeasurements {
  private readonly peers = new Map<string, PeerRecord>();

  /** Records a finished generation on `nodeId`. */
  recordSuccess(nodeId: string, model: string, sample: { tokensPerSecond?: number; ttftMs?: number }): void {
    const record = this.record(nodeId);
    let entry = record.perModel.get(model);
    if (entry === undefined) {
      entry = { tokensPerSecond: new Ewma(), ttftMs: new Ewma() };
      record.perModel.set(model, entry);
    }
    if (sample.tokensPerSecond !== undefined && sample.tokensPerSecond > 0)
      entry.tokensPerSecond.update(sample.tokensPerSecond);
    if (sample.ttftMs !== undefined && sample.ttftMs >= 0) entry.ttftMs.update(sample.ttftMs);
  }

  /** Records a failure (error, timeout, busy) on `nodeId`. */
  recordFailure(nodeId: string, now = Date.now()): void {
    const record = this.record(nodeId);
    record.recentFailures += 1;
    record.lastFailureAt = now;
  }

  /** The router's view of one node. */
  forNode(nodeId: string, rttMs: number | undefined, now = Date.now()): CandidateMeasurements {
    const record = this.peers.get(nodeId);
    const perModel: CandidateMeasurements['perModel'] = {};
    if (
      record !== undefined &&
      record.lastFailureAt !== undefined &&
      now - record.lastFailureAt > FAILURE_MEMORY_MS
    ) {
      record.recentFailures = 0;
      delete record.lastFailureAt;
    }
    for (const [model, entry] of record?.perModel ?? []) {
      perModel[model] = {
        ...(entry.tokensPerSecond.value !== undefined
          ? { tokensPerSecond: entry.tokensPerSecond.value }
          : {}),
        ...(entry.ttftMs.value !== undefined ? { ttftMs: entry.ttftMs.value } : {}),
      };
    }
    return {
      ...(rttMs !== undefined ? { rttMs } : {}),
      perModel,
      recentFailures: record?.recentFailures ?? 0,
      ...(record?.lastFailureAt !== undefined ? { lastFailureAt: record.lastFailureAt } : {}),
    };
  }

  private record(nodeId: string): PeerRecord {
    let record = this.peers.get(nodeId);
    if (record === undefined) {
      record = { perModel: new Map(), recentFailures: 0 };
      this.peers.set(nodeId, record);
    }
    return record;
  }
}
