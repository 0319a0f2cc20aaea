/** The fixed word lists of the API: UI languages and agent specializations. */
import type { Static } from '@sinclair/typebox';
import { OneOf } from './schema.js';

/**
 * The languages the UI ships, as BCP 47 tags. `pt` stays European Portuguese (settings stored
 * before `pt-BR` existed keep their meaning); `pt-BR` is Brazilian Portuguese.
 */
export const LANGUAGES = ['en', 'pt', 'pt-BR', 'es'] as const;
/** A UI language code. */
export const Language = OneOf(LANGUAGES);
export type Language = Static<typeof Language>;

/** What an agent can be for; the router prefers agents whose specialization matches the task. */
export const SPECIALIZATIONS = ['code', 'research', 'creative', 'home'] as const;
/** One specialization. */
export const Specialization = OneOf(SPECIALIZATIONS);
export type Specialization = Static<typeof Specialization>;

/** An account's role: admins manage the node, members chat and keep their own memories. */
export const Role = OneOf(['admin', 'member'] as const);
export type Role = Static<typeof Role>;
