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
