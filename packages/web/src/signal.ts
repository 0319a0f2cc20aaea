import { useEffect, useState } from 'preact/hooks';

/** A tiny observable value shared across components (no state library needed). */
export interface Signal<T> {
  value: T;
  subscribe(listener: (value: T) => void): () => void;
}

/** Creates a signal holding `initial`. */
export function signal<T>(initial: T): Signal<T> {
  let current = initial;
  const listeners = new Set<(value: T) => void>();
  return {
    get value() {
      return current;
    },
    set value(next: T) {
      if (Object.is(next, current)) return;
      current = next;
      for (const listener of listeners) listener(next);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Re-renders the component when the signal changes and returns its value. */
export function useSignal<T>(source: Signal<T>): T {
  const [value, setValue] = useState(source.value);
  useEffect(() => {
    setValue(source.value);
    return source.subscribe(setValue);
  }, [source]);
  return value;
}
