/**
 * Memories an agent proposes from a conversation (issue #18): pending, private to the person whose
 * chat proposed them, until that person keeps one (it becomes a memory, private or in a space) or
 * discards it. Proposals are stored off the answer's path; reads wait for the writes under way,
 * so a list right after an answer shows what it proposed.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { MAX_PENDING_PROPOSALS } from '../contract/memory-proposals.js';
import { NotFoundError } from '../errors.js';
import type { MemoryRecord } from '../store/memory-repository.js';
import type { ProposalRecord, ProposalRepository } from '../store/proposal-repository.js';
import type { MemoryService } from './memory-service.js';

/** No pending proposal of that id for this person. */
export class ProposalNotFoundError extends NotFoundError {
  override name = 'ProposalNotFoundError';
  constructor(readonly id: string) {
    super(`no pending memory proposal with id "${id.slice(0, 128)}"`, { code: 'proposal_not_found' });
  }
}

/** The owner key of proposals: a member's key, '' for the node's admins. */
export const proposalOwner = (memberKey: string | undefined): string => memberKey ?? '';

/** What a chat proposes. */
export interface NewProposals {
  texts: readonly string[];
  /** The caller's member key; undefined for an admin. */
  member: string | undefined;
  conversationId: string | undefined;
  agent: string;
}

/** Injected parts. */
export interface MemoryProposalsComponents {
  repository: ProposalRepository;
  memory: Pick<MemoryService, 'add'>;
  logger: Logger;
}

/** Pending proposals: propose, list, keep, discard. */
export class MemoryProposals {
  /** Writes under way: reads and flush() wait for them. */
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly components: MemoryProposalsComponents) {}

  /** Stores proposals in the background; a failed write is logged, never thrown at the chat. */
  propose(input: NewProposals): void {
    if (input.texts.length === 0) return;
    const now = Date.now();
    const records: ProposalRecord[] = input.texts.map((text, i) => ({
      id: randomUUID(),
      owner: proposalOwner(input.member),
      text,
      conversationId: input.conversationId ?? null,
      agent: input.agent,
      // Distinct times keep the message's order in the newest-first list.
      createdAt: new Date(now + i),
    }));
    const write = this.components.repository
      .insert(records, MAX_PENDING_PROPOSALS)
      .catch((error: unknown) => {
        this.components.logger.warn({ err: error, agent: input.agent }, 'memory proposals not stored');
      })
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  /** The person's pending proposals, newest first. */
  async list(member: string | undefined): Promise<ProposalRecord[]> {
    await this.flush();
    return this.components.repository.list(proposalOwner(member), MAX_PENDING_PROPOSALS);
  }

  /** Turns the proposal into a memory of the person: private (`space` null) or in `space`. */
  async keep(id: string, member: string | undefined, space: string | null): Promise<MemoryRecord> {
    await this.flush();
    // Taken first, so two keeps of one proposal cannot make two memories.
    const proposal = await this.components.repository.take(id, proposalOwner(member));
    if (proposal === undefined) throw new ProposalNotFoundError(id);
    try {
      return await this.components.memory.add({
        text: proposal.text,
        source: 'chat',
        owner: member ?? null,
        space,
      });
    } catch (error) {
      // Not kept (an unknown space, a full disk): it stays pending.
      await this.components.repository.insert([proposal], MAX_PENDING_PROPOSALS).catch(() => {});
      throw error;
    }
  }

  /** Drops the proposal. */
  async discard(id: string, member: string | undefined): Promise<void> {
    await this.flush();
    if ((await this.components.repository.take(id, proposalOwner(member))) === undefined) {
      throw new ProposalNotFoundError(id);
    }
  }

  /** Waits for every write under way (shutdown waits for this before the store closes). */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }
}
