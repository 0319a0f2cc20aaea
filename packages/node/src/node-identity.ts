/**
 * Who this node says it is, live: its agent name and specialisations. Read wherever the name is
 * shown or published (card, router, health, UI), so a rename from Settings or the wizard applies
 * at once; `change` tells the mesh to re-publish the card.
 */
import { TypedEventEmitter } from '@libp2p/interface';

/** This node's name and what it is for. */
export interface Identity {
  name: string;
  specializations: string[];
}

/** Events of the identity. */
export interface NodeIdentityEvents {
  /** The name or the specialisations changed (the detail is the new identity). */
  change: CustomEvent<Identity>;
}

/** The node's current identity; changes are announced, not polled. */
export class NodeIdentity extends TypedEventEmitter<NodeIdentityEvents> {
  private current: Identity;

  constructor(initial: Identity) {
    super();
    this.current = { name: initial.name, specializations: [...initial.specializations] };
  }

  /** The agent's name as published. */
  get name(): string {
    return this.current.name;
  }

  /** What this agent is for. */
  get specializations(): string[] {
    return [...this.current.specializations];
  }

  /** Applies a rename and/or new specialisations; announces `change` only when something changed. */
  update(next: Partial<Identity>): void {
    const name = next.name ?? this.current.name;
    const specializations = next.specializations
      ? [...new Set(next.specializations)]
      : this.current.specializations;
    const same =
      name === this.current.name &&
      specializations.length === this.current.specializations.length &&
      specializations.every((s, i) => s === this.current.specializations[i]);
    if (same) return;
    this.current = { name, specializations };
    this.safeDispatchEvent('change', { detail: { name, specializations: [...specializations] } });
  }
}
