/** The chat page's client of /allerac/v1/conversations: list, rename, delete, follow and stop. */
import type { ConversationList, ConversationSource, LiveAnswerEvent } from '@allerac/node';
import { ApiError, api } from './api.js';

const base = (id: string) => `/allerac/v1/conversations/${encodeURIComponent(id)}`;

/** The conversations matching `q` (title or text), most recent first. */
export async function listConversations(q: string, source: ConversationSource): Promise<ConversationList> {
  const query = new URLSearchParams({ limit: '50', source });
  if (q.trim() !== '') query.set('q', q.trim());
  return api<ConversationList>(`/allerac/v1/conversations?${query}`);
}

/** Gives a conversation a new title. */
export function renameConversation(id: string, title: string): Promise<unknown> {
  return api(base(id), { method: 'PATCH', body: { title } });
}

/** Deletes a conversation and its messages. */
export function deleteConversation(id: string): Promise<unknown> {
  return api(base(id), { method: 'DELETE' });
}

/** Stops the answer being generated in a conversation; nothing to stop is not an error. */
export async function stopConversation(id: string): Promise<void> {
  try {
    await api(`${base(id)}/stop`, { method: 'POST', body: {} });
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 409)) throw error;
  }
}

/** The `data` of each server-sent event (or each line of an NDJSON body), parsed. */
async function* jsonObjects(response: Response): AsyncGenerator<unknown> {
  const sse = (response.headers.get('Content-Type') ?? '').includes('text/event-stream');
  const separator = sse ? '\n\n' : '\n';
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replaceAll('\r\n', '\n');
    let end = buffer.indexOf(separator);
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + separator.length);
      const text = sse
        ? block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n')
        : block.trim();
      if (text !== '') yield JSON.parse(text);
      end = buffer.indexOf(separator);
    }
  }
}

/**
 * Follows the answer a conversation is generating: a snapshot of the text so far, then its
 * events to the end. Resolves false when nothing is generating there (any more).
 */
export async function followLive(
  id: string,
  onEvent: (event: LiveAnswerEvent) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  const init: RequestInit = { credentials: 'same-origin' };
  if (signal !== undefined) init.signal = signal;
  const response = await fetch(`${base(id)}/live`, init);
  if (response.status === 404 || response.status === 204 || response.body === null) return false;
  if (!response.ok) throw new ApiError(response.status, `${response.status} ${response.statusText}`);
  for await (const object of jsonObjects(response)) onEvent(object as LiveAnswerEvent);
  return true;
}
