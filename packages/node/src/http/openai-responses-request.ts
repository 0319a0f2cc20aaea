/**
 * A Responses API request as the body of Ollama's /api/chat, ported from Ollama's
 * openai/responses.go (FromResponsesRequest, convertTools, convertResponsesContent). Stateless:
 * the whole conversation comes in `input` every time, so what needs stored state (an earlier
 * response's id, a conversation, a background run) is refused rather than silently ignored.
 */
import type { OllamaObject } from '../backend/backend.js';
import { InvalidInputError } from '../errors.js';
import type {
  ResponsesContent,
  ResponsesInputItem,
  ResponsesRequest,
  ResponsesTool,
} from './openai-schemas.js';
import {
  decodeImageUrl,
  type OllamaMessage,
  type OllamaToolCall,
  parseArguments,
  thinkFromReasoningEffort,
} from './openai-translate.js';

/** POST /v1/responses as an Ollama chat request. */
export function fromResponsesRequest(body: ResponsesRequest): OllamaObject {
  refuseStoredState(body);
  const messages: OllamaMessage[] = [];
  if (body.instructions) messages.push({ role: 'system', content: body.instructions });
  const input = body.input ?? '';
  if (typeof input === 'string') {
    if (input !== '') messages.push({ role: 'user', content: input });
  } else {
    messages.push(...fromInputItems(input));
  }
  const options: OllamaObject = { temperature: body.temperature ?? 1.0 };
  // OpenAI defaults top_p to 1, but Ollama leaves the model's own default unless it is sent.
  if (body.top_p !== undefined && body.top_p !== null) options.top_p = body.top_p;
  if (body.max_output_tokens !== undefined && body.max_output_tokens !== null)
    options.num_predict = body.max_output_tokens;
  const think = thinkFromReasoningEffort(body.reasoning?.effort ?? undefined, 'reasoning.effort');
  const tools = (body.tools ?? []).flatMap((tool, i) => convertTools(tool, `tools[${i}]`));
  const request: OllamaObject = { model: body.model, messages, options, stream: body.stream === true };
  if (tools.length > 0) request.tools = tools;
  const format = body.text?.format;
  if (format?.type === 'json_schema' && format.schema !== undefined && format.schema !== null)
    request.format = format.schema;
  // Ollama's Responses path knows only json_schema; json_object means what it does in chat.
  if (format?.type === 'json_object') request.format = 'json';
  if (think !== undefined) request.think = think;
  if (body.allerac !== undefined && body.allerac !== null) request.allerac = body.allerac;
  return request;
}

function refuseStoredState(body: ResponsesRequest): void {
  if (body.previous_response_id) {
    throw new InvalidInputError(
      'previous_response_id is not supported: this node stores no responses; send the whole conversation as input',
      { param: 'previous_response_id' },
    );
  }
  if (body.conversation !== undefined && body.conversation !== null) {
    throw new InvalidInputError(
      'conversation is not supported: this node stores no conversations for /v1/responses; send the whole conversation as input',
      { param: 'conversation' },
    );
  }
  if (body.background === true) {
    throw new InvalidInputError(
      'background responses are not supported: send the request without background',
      {
        param: 'background',
      },
    );
  }
}

/** The input items as chat messages, merging what the Responses API keeps apart. */
function fromInputItems(items: readonly ResponsesInputItem[]): OllamaMessage[] {
  const messages: OllamaMessage[] = [];
  // A reasoning item belongs to the assistant message (or tool calls) after it.
  let pendingThinking = '';
  items.forEach((item, i) => {
    const param = `input[${i}]`;
    const type = item.type || (item.role ? 'message' : '');
    switch (type) {
      case 'reasoning':
        pendingThinking = item.encrypted_content ?? '';
        break;
      case 'message': {
        const { content, images } = convertContent(messageContent(item.content, param), param, 'content');
        const message: OllamaMessage = { role: item.role ?? '', content };
        if (images.length > 0) message.images = images;
        if (message.role === 'assistant' && pendingThinking !== '') {
          message.thinking = pendingThinking;
          pendingThinking = '';
        }
        if (!mergeReplayedAssistant(messages, message, items[i + 1])) messages.push(message);
        break;
      }
      case 'function_call': {
        const args = parseArguments(item.arguments ?? '');
        if (args === undefined) {
          throw new InvalidInputError('failed to parse function call arguments: not a JSON object', {
            param: `${param}.arguments`,
          });
        }
        const call: OllamaToolCall = {
          id: item.call_id ?? '',
          function: { name: item.name ?? '', arguments: args },
        };
        if (call.id === '') delete call.id;
        // Calls join the assistant message before them, or open one.
        let target = messages.at(-1);
        if (target?.role !== 'assistant') {
          target = { role: 'assistant', content: '' };
          messages.push(target);
        }
        target.tool_calls = [...(target.tool_calls ?? []), call];
        if (pendingThinking !== '') {
          target.thinking = pendingThinking;
          pendingThinking = '';
        }
        break;
      }
      case 'function_call_output': {
        const output = item.output ?? '';
        const { content, images } =
          typeof output === 'string'
            ? { content: output, images: [] }
            : convertContent(output, param, 'output');
        const message: OllamaMessage = { role: 'tool', content };
        if (images.length > 0) message.images = images;
        if (item.call_id) {
          message.tool_call_id = item.call_id;
          // Unlike Ollama, name the function too, as the chat path does: templates show it.
          const name = toolNameOf(items, item.call_id);
          if (name !== '') message.tool_name = name;
        }
        messages.push(message);
        break;
      }
      case 'web_search_call':
        // History of a built-in tool: the assistant message after it carries what it found.
        break;
      case '':
        throw new InvalidInputError(`${param}: input item missing required 'type' field`, {
          param: `${param}.type`,
        });
      default:
        throw new InvalidInputError(`${param}: unknown input item type: ${JSON.stringify(type)}`, {
          param: `${param}.type`,
        });
    }
  });
  // Reasoning with nothing after it still belongs to the conversation.
  if (pendingThinking !== '') messages.push({ role: 'assistant', content: '', thinking: pendingThinking });
  return messages;
}

/**
 * Responses may replay an assistant message between a function_call and its output; it joins the
 * assistant message holding that call, so the tool result still follows the call it answers.
 */
function mergeReplayedAssistant(
  messages: OllamaMessage[],
  message: OllamaMessage,
  next: ResponsesInputItem | undefined,
): boolean {
  const callId = next?.type === 'function_call_output' ? next.call_id : undefined;
  const last = messages.at(-1);
  if (message.role !== 'assistant' || !callId || last?.role !== 'assistant') return false;
  if (!(last.tool_calls ?? []).some((call) => call.id === callId)) return false;
  if (last.content && message.content) last.content += '\n';
  last.content = (last.content ?? '') + (message.content ?? '');
  if (message.images !== undefined) last.images = [...(last.images ?? []), ...message.images];
  if (message.thinking) last.thinking = message.thinking;
  return true;
}

/** A message's content as content items (a string is one input_text). */
function messageContent(content: ResponsesInputItem['content'], param: string): ResponsesContent[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return [{ type: 'input_text', text: content }];
  content.forEach((part, j) => {
    if (!['input_text', 'input_image', 'output_text', 'input_file'].includes(part.type)) {
      throw new InvalidInputError(`${param}: content[${j}]: unknown content type: ${part.type}`, {
        param: `${param}.content[${j}].type`,
      });
    }
  });
  return content;
}

/** Text and images of content items; files are refused, an image without a URL is skipped. */
function convertContent(
  items: readonly ResponsesContent[],
  param: string,
  field: 'content' | 'output',
): { content: string; images: string[] } {
  let content = '';
  const images: string[] = [];
  items.forEach((item, j) => {
    const where = `${param}.${field}[${j}]`;
    switch (item.type) {
      case 'input_text':
      case 'output_text':
        content += item.text ?? '';
        break;
      case 'input_image':
        if (item.image_url) images.push(decodeImageUrl(item.image_url, `${where}.image_url`));
        break;
      case 'input_file':
        throw new InvalidInputError('file inputs are not currently supported', { param: where });
      default:
        throw new InvalidInputError(`${param}: ${field}[${j}]: unknown content type: ${item.type}`, {
          param: `${where}.type`,
        });
    }
  });
  return { content, images };
}

/** The name of the function_call a result answers (the last call with that id wins). */
function toolNameOf(items: readonly ResponsesInputItem[], callId: string): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item?.type === 'function_call' && item.call_id === callId) return item.name ?? '';
  }
  return '';
}

type ResponsesToolLike = Pick<ResponsesTool, 'type' | 'name' | 'description' | 'parameters'> & {
  tools?: ResponsesToolLike[] | null | undefined;
};

/**
 * One Responses tool as Ollama tools. A namespace expands to its members, named `namespace.member`
 * (api.Tool has only a flat name). The built-in web search would leave the home: refused.
 */
function convertTools(tool: ResponsesToolLike, param: string): OllamaObject[] {
  if (tool.type === 'web_search') {
    throw new InvalidInputError(
      'the web_search tool is not available: this node sends nothing outside the home',
      {
        param: `${param}.type`,
      },
    );
  }
  if (tool.type !== 'namespace') return [convertTool(tool)];
  const prefix = tool.name ? `${tool.name}.` : '';
  return (tool.tools ?? []).flatMap((member, i) =>
    convertTools(member, `${param}.tools[${i}]`).map((converted) => {
      const fn = converted.function as { name: string };
      if (prefix !== '' && !fn.name.startsWith(prefix)) fn.name = prefix + fn.name;
      return converted;
    }),
  );
}

function convertTool(tool: ResponsesToolLike): OllamaObject {
  const fn: OllamaObject = { name: tool.name ?? '', description: tool.description ?? '' };
  const p = tool.parameters;
  if (p !== undefined && p !== null) {
    // api.ToolFunctionParameters keeps these fields and no others.
    const parameters: OllamaObject = { type: p.type ?? '' };
    if (p.$defs !== undefined) parameters.$defs = p.$defs;
    if (p.items !== undefined) parameters.items = p.items;
    if (p.required !== undefined && p.required !== null) parameters.required = p.required;
    if (p.properties !== undefined && p.properties !== null) parameters.properties = p.properties;
    fn.parameters = parameters;
  }
  return { type: tool.type ?? '', function: fn };
}
