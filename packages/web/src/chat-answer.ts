/** The chat page's model of a message, and how stored rows, stream chunks and live events fill it. */
import type {
  ChatChunk,
  ChatMemoryUse,
  LiveAnswerEvent,
  StoredMessage,
  ToolCallInfo,
  UsedMemory,
} from '@allerac/node';

/** Where an answer stands, as the store records it (`generating` while tokens still come). */
export type AnswerStatus = 'generating' | 'complete' | 'stopped' | 'partial' | 'failed';

/** One message of the chat as the page shows it. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
  node?: string | undefined;
  failovers?: number | undefined;
  memories?: UsedMemory[] | undefined;
  /** Which memories the serving node could be given (absent when memories were off). */
  memory?: ChatMemoryUse | undefined;
  /** How many memories the agent proposed from the question (reviewed on the Memories page). */
  proposals?: number | undefined;
  /** A "remember …" the agent may not save. */
  notRemembered?: boolean | undefined;
  /** The tools an assistant's answer called (a light turned off), in order. */
  toolCalls?: ToolCallInfo[] | undefined;
  status?: AnswerStatus | undefined;
  /** Why the answer failed, shown in the bubble with Retry. */
  error?: string | undefined;
  /** Whether the serving node had the model loaded when the answer began. */
  modelState?: 'loaded' | 'cold' | undefined;
}

/** A stored status as the page knows it; anything unknown counts as complete. */
export function answerStatus(status: string | undefined): AnswerStatus {
  return status === 'generating' || status === 'stopped' || status === 'partial' || status === 'failed'
    ? status
    : 'complete';
}

/** A stored message as the page shows it. */
export function fromStored(m: StoredMessage): ChatMessage {
  return {
    role: m.role as 'user' | 'assistant',
    content: m.content,
    node: m.node ?? undefined,
    failovers: m.metadata.failovers,
    memories: m.metadata.memories,
    memory: m.metadata.memory,
    toolCalls: m.metadata.toolCalls,
    status: m.role === 'assistant' ? answerStatus(m.status) : undefined,
    error: m.metadata.error,
  };
}

/** What the model is sent: the conversation without answers that failed before any text. */
export const forModel = (history: ChatMessage[]) =>
  history
    .filter((m) => !(m.role === 'assistant' && m.status === 'failed' && m.content === ''))
    .map((m) => ({ role: m.role, content: m.content }));

/** Folds one streamed chunk into the answer being shown. */
export function applyChunk(answer: ChatMessage, chunk: ChatChunk): void {
  answer.content += chunk.message?.content ?? '';
  if (chunk.allerac !== undefined) {
    answer.node = chunk.allerac.node ?? answer.node;
    answer.failovers = chunk.allerac.failovers;
    answer.memories = chunk.allerac.memories;
    answer.memory = chunk.allerac.memory;
    answer.proposals = chunk.allerac.proposals?.texts.length;
    answer.notRemembered = chunk.allerac.notRemembered !== undefined;
    answer.toolCalls = chunk.allerac.toolCalls;
  }
}

/** Folds one event of a followed answer (GET …/live) into the answer being shown. */
export function applyLiveEvent(answer: ChatMessage, event: LiveAnswerEvent): void {
  if (event.type === 'snapshot') {
    answer.content = event.content;
    answer.node = event.node ?? answer.node;
    answer.modelState = event.modelState ?? undefined;
  } else if (event.type === 'serving') {
    answer.node = event.node;
    answer.modelState = event.modelState ?? undefined;
  } else if (event.type === 'delta') answer.content += event.content;
  else {
    answer.status = event.status;
    answer.error = event.error ?? undefined;
  }
}
