/** Shared helpers for the simulator tests: a started sim and an authorized fetch. */

import type { HaSim, HaSimOptions } from '../src/index.js';
import { startHaSim } from '../src/index.js';

/** A started simulator with helpers that send its token. */
export interface TestHa {
  sim: HaSim;
  get(path: string, token?: string): Promise<Response>;
  post(path: string, body: unknown, token?: string): Promise<Response>;
}

/** Starts a simulator on a free loopback port. */
export async function startTestHa(options: HaSimOptions = {}): Promise<TestHa> {
  const sim = await startHaSim(options);
  const headers = (token: string | undefined) => ({
    Authorization: `Bearer ${token ?? sim.token}`,
    'Content-Type': 'application/json',
  });
  return {
    sim,
    get: (path, token) => fetch(`${sim.url}${path}`, { headers: headers(token) }),
    post: (path, body, token) =>
      fetch(`${sim.url}${path}`, {
        method: 'POST',
        headers: headers(token),
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
  };
}
