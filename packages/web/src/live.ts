import { useEffect } from 'preact/hooks';

/** Subscribes to the node's live events (GET /allerac/v1/events) while the component is shown. */
export function useLiveEvents(handlers: Record<string, (data: unknown) => void>): void {
  useEffect(() => {
    const source = new EventSource('/allerac/v1/events');
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => handler(JSON.parse((event as MessageEvent<string>).data)));
    }
    return () => source.close();
  }, []);
}
