import { signal } from './signal.js';

/** The current path; the app renders the page for it. */
export const currentPath = signal<string>(globalThis.location?.pathname ?? '/');

/** Navigates within the SPA without a page load. */
export function navigate(path: string, replace = false): void {
  if (path === currentPath.value) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  currentPath.value = path;
  globalThis.scrollTo?.(0, 0);
}

globalThis.addEventListener?.('popstate', () => {
  currentPath.value = location.pathname;
});

/** A parameter of the current address's query, such as the open conversation (`/chat?c=…`). */
export function queryParam(name: string): string | undefined {
  return new URLSearchParams(globalThis.location?.search ?? '').get(name) ?? undefined;
}

/** Sets or clears one query parameter in place (no new history entry, no page change). */
export function replaceQueryParam(name: string, value: string | undefined): void {
  const url = new URL(location.href);
  if (value === undefined) url.searchParams.delete(name);
  else url.searchParams.set(name, value);
  if (url.href !== location.href) history.replaceState(null, '', url);
}
