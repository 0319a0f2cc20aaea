/** The fault plan in force and its injected errors. */
import { OllamaApiError, SERVER_BUSY } from './errors.js';
import { XorShift32 } from './text.js';
import type { FaultPlan } from './types.js';

/** Fixed seed so a given errorRate fails the same requests on every run. */
const FAULT_SEED = 0x5eed_f417;

function faultMessage(status: number): string {
  if (status === 503) return SERVER_BUSY;
  if (status === 500) return 'llama runner process has terminated: exit status 2';
  return `simulated fault (status ${status})`;
}

/** Holds the current plan; `nextError` decides whether an inference request fails. */
export class FaultState {
  private current: FaultPlan = {};
  private failNext = 0;
  private rng = new XorShift32(FAULT_SEED);

  /** The plan in force, with failNextRequests showing how many failures remain. */
  get plan(): FaultPlan {
    return { ...this.current, ...(this.failNext > 0 ? { failNextRequests: this.failNext } : {}) };
  }

  /** Replaces the plan (an empty object clears every fault). */
  set(plan: FaultPlan): void {
    validatePlan(plan);
    this.current = { ...plan };
    delete this.current.failNextRequests;
    this.failNext = Math.floor(plan.failNextRequests ?? 0);
    this.rng = new XorShift32(FAULT_SEED);
  }

  /** The error to answer an inference request with, if the plan says it fails. */
  nextError(): OllamaApiError | undefined {
    const status = this.current.errorStatus ?? 500;
    if (this.failNext > 0) {
      this.failNext--;
      return new OllamaApiError(status, faultMessage(status));
    }
    const rate = this.current.errorRate ?? 0;
    if (rate > 0 && this.rng.float() < rate) return new OllamaApiError(status, faultMessage(status));
    return undefined;
  }
}

/** Rejects plans that make no sense, so a typo does not silently disable a fault. */
export function validatePlan(plan: FaultPlan): void {
  const counts = ['exitAfterTokens', 'stallAfterTokens', 'failNextRequests'] as const;
  for (const key of counts) {
    const value = plan[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new OllamaApiError(400, `${key} must be a non-negative number`);
    }
  }
  const rate = plan.errorRate;
  if (rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))) {
    throw new OllamaApiError(400, 'errorRate must be between 0 and 1');
  }
  const status = plan.errorStatus;
  if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599)) {
    throw new OllamaApiError(400, 'errorStatus must be an HTTP error status (400-599)');
  }
}
