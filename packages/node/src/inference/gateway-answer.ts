/**
 * One answer as the client sees it, whichever nodes served it: the text is accumulated here once
 * (for a continuation elsewhere and for whoever records it), and when the serving node fails
 * mid-answer the partial text goes to the next holder as an assistant prefix.
 */
import type { Placement } from '@allerac/router';
import type { Logger } from 'pino';
import type { OllamaObject } from '../backend/backend.js';
import { AnswerAggregate } from './aggregate.js';
import { AnswerInterruptedError, PeerLostError } from './errors.js';
import type { GenerationKind, InferenceStream, PreparedRequest, ServedBy, ServingNode } from './gateway.js';
import { type Attempt, settle } from './gateway-attempts.js';
import type { Answered } from './try-in-order.js';

/** What an answer needs from the gateway. */
export interface AnswerHooks {
  /** Starts the answer again on one of `others`, from the continued body. */
  continueOn(body: OllamaObject, others: readonly Placement[], failovers: number): Promise<Answered<Attempt>>;
  /** The attempt sent its `done` chunk and its stream ended. */
  finished(attempt: Attempt, final: OllamaObject): void;
  /** The attempt failed mid-answer. */
  failed(attempt: Attempt): void;
  servingNode(placement: Placement): ServingNode;
  logger: Logger;
}

/** Everything one answer starts from. */
export interface AnswerStart {
  kind: GenerationKind;
  /** The request as the client sent it (routing options removed). */
  body: OllamaObject;
  /** Every eligible candidate, best first. */
  eligible: readonly Placement[];
  /** Nodes tried so far for this answer. */
  tried: Set<string>;
  first: Answered<Attempt>;
  signal: AbortSignal;
}

/** The stream of one answer from its first attempt on. */
export async function answerStream(start: AnswerStart, hooks: AnswerHooks): Promise<InferenceStream> {
  const { kind, body, eligible, tried, signal } = start;
  let current = start.first.value;
  let failovers = start.first.failovers;
  const answer = new AnswerAggregate(kind);
  answer.add(current.first);
  // Every request the answer so far was drawn from: a continuation goes only where all may go.
  const drawnFrom: PreparedRequest[] = [current.prepared];
  // Set once the `done` chunk has been seen, so the end reads the stream out instead of cutting it.
  let final: OllamaObject | undefined = current.first.done === true ? current.first : undefined;

  /**
   * The next chunks of the answer, from the current attempt or, when it fails, from the next; up
   * to its `done` chunk. They are in the answer before any is handed on, and a failure can only
   * come between batches: a continuation starts from exactly the text handed on.
   */
  async function next(): Promise<readonly OllamaObject[]> {
    try {
      const read = await current.rest.next();
      if (read.done)
        throw new PeerLostError(`${current.placement.nodeName} ended the answer before it was done`);
      return taken(read.value);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      hooks.failed(current);
      current = await continueElsewhere(error);
      drawnFrom.push(current.prepared);
      return taken([current.first]);
    }
  }

  /** Adds `chunks` to the answer up to its `done` chunk; what follows that one is not the answer's. */
  function taken(chunks: readonly OllamaObject[]): readonly OllamaObject[] {
    for (let i = 0; i < chunks.length; i += 1) {
      const chunk = chunks[i]!;
      answer.add(chunk);
      if (chunk.done === true) {
        final = chunk;
        return i === chunks.length - 1 ? chunks : chunks.slice(0, i + 1);
      }
    }
    return chunks;
  }

  async function continueElsewhere(error: unknown): Promise<Attempt> {
    const failed = current.placement;
    const holders = eligible.filter((p) => !tried.has(p.nodeId) && p.model === failed.model);
    const others = holders.filter((p) =>
      drawnFrom.every((prepared) => prepared.mayContinueOn?.(hooks.servingNode(p)) ?? true),
    );
    if (kind !== 'chat' || others.length === 0) {
      const why =
        kind === 'chat' && holders.length > 0
          ? `the answer drew on memories that no other node holding ${failed.model} may see`
          : `no other node has ${failed.model} to continue it`;
      throw new AnswerInterruptedError(failed.nodeName, (error as Error).message, why, { cause: error });
    }
    hooks.logger.warn(
      { node: failed.nodeName, model: failed.model, err: error },
      'node failed mid-answer; continuing on another node',
    );
    failovers += 1;
    // Continue the same answer: the partial text goes back as an assistant prefix, which Ollama
    // continues, so the client sees no repeated text.
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const continuation = { ...body, messages: [...messages, { role: 'assistant', content: answer.content }] };
    const next = await hooks.continueOn(continuation, others, failovers);
    failovers = next.failovers;
    return next.value;
  }

  // Whatever way the consumer stops (done, error, client gone, or before it read any chunk after
  // the first), the serving attempt is closed once: read to its end when the answer is whole, cut
  // otherwise (releasing its slot or cancelling the peer's generation).
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      if (final !== undefined) {
        await settle(current);
        hooks.finished(current, final);
      } else await current.rest.return(undefined);
    })();
    return closed;
  };
  // A one-chunk answer: nothing need iterate the rest, so it ends now.
  if (final !== undefined) await close();
  // One generator between the attempt and the client: each async layer costs promises per token.
  async function* guarded(): AsyncGenerator<readonly OllamaObject[]> {
    try {
      while (final === undefined) yield await next();
    } finally {
      await close();
    }
  }
  const iterator = guarded();
  // A generator never started skips its finally on return(); the attempt must close anyway.
  const returnUnstarted = iterator.return.bind(iterator);
  iterator.return = async (value) => {
    await close();
    return returnUnstarted(value);
  };
  const served = (): ServedBy => ({ node: current.placement.nodeName, failovers });
  return {
    firstChoice: start.first.placement.nodeName,
    first: start.first.value.first,
    rest: { [Symbol.asyncIterator]: () => iterator },
    answer,
    servedBy: served,
    preparedFor: () => ({ ...current.prepared.allerac }),
  };
}
