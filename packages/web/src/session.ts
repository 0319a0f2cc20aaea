import type { AuthState } from '@allerac/node';
import { api } from './api.js';
import { browserLanguage, setLanguage } from './i18n.js';
import { signal } from './signal.js';

/** The latest auth state; undefined until the first load. */
export const authState = signal<AuthState | undefined>(undefined);

/** Reloads the auth state from the node. */
export async function refreshAuth(): Promise<AuthState> {
  const state = await api<AuthState>('/auth/state');
  authState.value = state;
  // The home's language (chosen at setup) is for browsers that ask for none the UI ships.
  const preferred = state.user?.language ?? browserLanguage() ?? state.language;
  if (preferred !== null && preferred !== undefined && localStorage.getItem('allerac.language') === null)
    setLanguage(preferred);
  return state;
}
