import type { Backend, BackendModel, LoadedModel, OllamaObject } from '../backend/backend.js';
import { BackendProtocolError } from '../backend/errors.js';
import type { GenerationKind, InferenceGateway, InferenceStream, ServedBy } from './gateway.js';

/** Serves every request from this node's own backend: the single-node case. */
export class LocalGateway implements InferenceGateway {
  constructor(
    private readonly backend: Backend,
    private readonly nodeName: () => string,
  ) {}

  models(): Promise<BackendModel[]> {
    return this.backend.list();
  }

  loaded(): Promise<LoadedModel[]> {
    return this.backend.ps();
  }

  show(request: OllamaObject): Promise<OllamaObject> {
    return this.backend.show(request);
  }

  async generate(kind: GenerationKind, request: OllamaObject, signal: AbortSignal): Promise<InferenceStream> {
    const source =
      kind === 'chat' ? this.backend.chat(request, signal) : this.backend.generate(request, signal);
    const served: ServedBy = { node: this.nodeName(), failovers: 0 };
    return startStream(source, served.node, () => served);
  }

  async embed(request: OllamaObject, signal: AbortSignal) {
    const response = await this.backend.embed(request, signal);
    return { response, servedBy: { node: this.nodeName(), failovers: 0 } };
  }
}

/** Waits for the first chunk of `source` and wraps the rest; errors before it propagate as is. */
export async function startStream(
  source: AsyncIterable<OllamaObject>,
  firstChoice: string,
  servedBy: () => ServedBy,
): Promise<InferenceStream> {
  const iterator = source[Symbol.asyncIterator]();
  const head = await iterator.next();
  if (head.done) throw new BackendProtocolError('the backend ended the stream without sending anything');
  const rest: AsyncIterable<OllamaObject> = {
    [Symbol.asyncIterator]: () => iterator,
  };
  return { firstChoice, first: head.value, rest, servedBy };
}
