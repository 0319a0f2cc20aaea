/** How long a token lives: a duration such as `30d`, or an absolute time. */

/** The lifetime asked for cannot be used; the message says why (HTTP maps it to 400). */
export class TokenLifetimeError extends Error {
  override name = 'TokenLifetimeError';
}

/** The longest lifetime a token may be given: ten years, beyond which "never" is the honest choice. */
export const MAX_TOKEN_LIFETIME_MS = 10 * 365 * 24 * 3600_000;

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3600_000,
  d: 24 * 3600_000,
  w: 7 * 24 * 3600_000,
};

/** Milliseconds of a duration written as a whole number and a unit: `90m`, `12h`, `30d`, `2w`, `45s`. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d{1,9})\s*([smhdw])\s*$/i.exec(text);
  if (match === null) {
    throw new TokenLifetimeError(
      `"${text.slice(0, 40)}" is not a duration; write a number and a unit, e.g. 30d, 12h, 90m or 2w`,
    );
  }
  const ms = Number(match[1]) * (UNIT_MS[(match[2] as string).toLowerCase()] as number);
  if (ms <= 0) throw new TokenLifetimeError('a token lifetime must be longer than zero');
  return ms;
}

/**
 * When a token should expire, from `expiresIn` (a duration string, or seconds as a number) or
 * `expiresAt` (an ISO time); undefined when neither is given (the token never expires).
 */
export function resolveExpiry(
  input: { expiresIn?: unknown; expiresAt?: unknown },
  now: Date = new Date(),
): Date | undefined {
  const { expiresIn, expiresAt } = input;
  const given = (value: unknown) => value !== undefined && value !== null;
  if (given(expiresIn) && given(expiresAt))
    throw new TokenLifetimeError('give either "expiresIn" or "expiresAt", not both');
  let at: Date;
  if (given(expiresIn)) {
    let ms: number;
    if (typeof expiresIn === 'string') ms = parseDuration(expiresIn);
    else if (typeof expiresIn === 'number' && Number.isInteger(expiresIn) && expiresIn > 0)
      ms = expiresIn * 1000;
    else
      throw new TokenLifetimeError(
        '"expiresIn" must be a duration such as "30d", or a whole number of seconds',
      );
    at = new Date(now.getTime() + ms);
  } else if (given(expiresAt)) {
    if (typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt)))
      throw new TokenLifetimeError('"expiresAt" must be an ISO time such as 2030-01-01T00:00:00Z');
    at = new Date(expiresAt);
    if (at.getTime() <= now.getTime()) throw new TokenLifetimeError('"expiresAt" is in the past');
  } else {
    return undefined;
  }
  if (Number.isNaN(at.getTime()) || at.getTime() - now.getTime() > MAX_TOKEN_LIFETIME_MS)
    throw new TokenLifetimeError(
      'a token may live at most ten years; leave the lifetime out for one that never expires',
    );
  return at;
}

/** Whether a token with this expiry has expired at `now`. */
export const isExpired = (expiresAt: Date | string | null | undefined, now: Date = new Date()): boolean =>
  expiresAt !== null && expiresAt !== undefined && new Date(expiresAt).getTime() <= now.getTime();
