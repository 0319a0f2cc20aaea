/** Notices a client that goes away before its answer is complete. */
import type { ServerResponse } from 'node:http';

/** Whether the client left, and a promise that settles when it does. */
export interface ClientWatch {
  readonly gone: boolean;
  readonly whenGone: Promise<'gone'>;
  onGone(fn: () => void): void;
}

/** Watches `res`: 'close' before the response finished means the client disconnected. */
export function watchClient(res: ServerResponse): ClientWatch {
  let gone = false;
  const listeners: Array<() => void> = [];
  let resolveGone!: (value: 'gone') => void;
  const whenGone = new Promise<'gone'>((resolve) => {
    resolveGone = resolve;
  });
  res.on('close', () => {
    if (res.writableFinished) return;
    gone = true;
    resolveGone('gone');
    for (const fn of listeners.splice(0)) fn();
  });
  return {
    get gone() {
      return gone;
    },
    whenGone,
    onGone(fn) {
      if (gone) fn();
      else listeners.push(fn);
    },
  };
}
