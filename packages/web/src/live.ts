import type { LiveEvents } from '@allerac/node';
import { useEffect } from 'preact/hooks';

/** A handler per live event, each given that event's data as the contract types it. */
export type LiveHandlers = { [E in keyof LiveEvents]?: (data: LiveEvents[E]) => void };

/** Subscribes to the node's live events (GET /allerac/v1/events) while the component is shown. */
export function useLiveEvents(handlers: LiveHandlers): void {
  useEffect(() => {
    const source = new EventSource('/allerac/v1/events');
    for (const [name, handler] of Object.entries(handlers) as Array<[string, (data: unknown) => void]>) {
      source.addEventListener(name, (event) => handler(JSON.parse((event as MessageEvent<string>).data)));
    }
    return () => source.close();
  }, []);
}
