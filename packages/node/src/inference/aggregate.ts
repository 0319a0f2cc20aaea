import type { OllamaObject } from '../backend/backend.js';

/** Accumulates streamed chunks into the whole answer, as Ollama does for `stream: false`. */
export class AnswerAggregate {
  content = '';
  thinking = '';
  toolCalls: unknown[] = [];
  /** The last chunk seen; the `done` chunk once the stream completes. */
  last: OllamaObject | undefined;
  chunks = 0;

  constructor(private readonly kind: 'chat' | 'generate') {}

  /** Adds one streamed chunk. */
  add(chunk: OllamaObject): void {
    this.chunks += 1;
    this.last = chunk;
    if (this.kind === 'chat') {
      const message = chunk.message as
        | { content?: unknown; thinking?: unknown; tool_calls?: unknown }
        | undefined;
      if (typeof message?.content === 'string') this.content += message.content;
      if (typeof message?.thinking === 'string') this.thinking += message.thinking;
      if (Array.isArray(message?.tool_calls)) this.toolCalls.push(...message.tool_calls);
    } else {
      if (typeof chunk.response === 'string') this.content += chunk.response;
      if (typeof chunk.thinking === 'string') this.thinking += chunk.thinking;
    }
  }

  /** True once the final chunk has arrived. */
  get done(): boolean {
    return this.last?.done === true;
  }

  /** The non-streaming response: the final chunk carrying the whole text. */
  toResponse(): OllamaObject {
    const final: OllamaObject = { ...(this.last ?? {}) };
    if (this.kind === 'chat') {
      const message: Record<string, unknown> = { role: 'assistant', content: this.content };
      if (this.thinking !== '') message.thinking = this.thinking;
      if (this.toolCalls.length > 0) message.tool_calls = this.toolCalls;
      final.message = message;
    } else {
      final.response = this.content;
      if (this.thinking !== '') final.thinking = this.thinking;
    }
    return final;
  }
}
