/** Typed errors of the router: each maps to one HTTP answer in the node (404, 400, 404). */

/** The requested model is installed nowhere in the mesh (the node answers 404). */
export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError';
  /** The name the client asked for. */
  readonly model: string;
  /** Every model the mesh has, for the client to pick from. */
  readonly available: string[];

  constructor(model: string, available: string[]) {
    super(
      `model "${model}" not found in the mesh; available: ${available.length > 0 ? available.join(', ') : '(none)'}`,
    );
    this.model = model;
    this.available = available;
  }
}

/** A short model name matches several installed tags and none is `:latest` (the node answers 400). */
export class AmbiguousModelError extends Error {
  override name = 'AmbiguousModelError';
  /** The name the client asked for. */
  readonly model: string;
  /** The tags it could mean. */
  readonly matches: string[];

  constructor(model: string, matches: string[]) {
    super(`model "${model}" is ambiguous in the mesh; use one of: ${matches.join(', ')}`);
    this.model = model;
    this.matches = matches;
  }
}

/** A `pin` policy names a node that is not among the candidates (the node answers 404). */
export class UnknownNodeError extends Error {
  override name = 'UnknownNodeError';
  /** The node name or id the policy pinned. */
  readonly node: string;
  /** Names of the nodes the router knows. */
  readonly known: string[];

  constructor(node: string, known: string[]) {
    super(
      `node "${node}" is not in the mesh; known nodes: ${known.length > 0 ? known.join(', ') : '(none)'}`,
    );
    this.node = node;
    this.known = known;
  }
}
