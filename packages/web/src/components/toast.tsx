import { signal, useSignal } from '../signal.js';

/** A short message shown at the bottom of the screen. */
interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

const toasts = signal<Toast[]>([]);
let nextId = 1;

/** Shows a toast for a few seconds. */
export function toast(text: string, kind: 'info' | 'error' = 'info'): void {
  const id = nextId++;
  toasts.value = [...toasts.value, { id, text, kind }];
  setTimeout(() => {
    toasts.value = toasts.value.filter((item) => item.id !== id);
  }, 4000);
}

/** The toast stack; announced to screen readers. */
export function Toasts() {
  const list = useSignal(toasts);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((item) => (
        <button
          type="button"
          key={item.id}
          class={`toast toast-${item.kind}`}
          onClick={() => (toasts.value = toasts.value.filter((x) => x.id !== item.id))}
        >
          {item.text}
        </button>
      ))}
    </div>
  );
}
