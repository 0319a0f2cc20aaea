/**
 * The `X-Allerac-Node` header, and any other header that carries an agent's name. HTTP header
 * values are Latin-1 at best (Node refuses anything else with ERR_INVALID_CHAR), while names may
 * be any printable Unicode, so the name travels percent-encoded UTF-8 (`encodeURIComponent`): a
 * plain ASCII name without spaces or reserved characters reads the same either way. JSON bodies
 * and cards carry the name as it is.
 */

/** The response header naming the node that served (or first tried) a request. */
export const NODE_HEADER = 'X-Allerac-Node';

/** A name as a header value: percent-encoded UTF-8. */
export function encodeNodeHeader(name: string): string {
  // encodeURIComponent throws on a lone surrogate, which a peer's card might hold.
  return encodeURIComponent(name.replace(/\p{Cs}/gu, '\uFFFD'));
}

/** A header value back to the name; a value that is not valid percent-encoding is kept as it came. */
export function decodeNodeHeader(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
