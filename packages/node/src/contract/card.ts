/**
 * A node's hardware, backend and load as its signed card carries them (packages/protocol's
 * messages.ts), for the pages that show agents. Open objects: a newer peer may add fields, which
 * the protocol keeps.
 */
import type { BackendInfo, GpuInfo, HardwareInfo, LoadInfo } from '@allerac/protocol';
import { type Static, Type } from '@sinclair/typebox';
import type { Equals } from './schema.js';

/** One GPU. */
export const Gpu = Type.Object({
  model: Type.String(),
  vramTotal: Type.Number(),
  vramFree: Type.Number(),
});
export type Gpu = Static<typeof Gpu>;

/** A node's hardware; sizes are bytes. The CPU is `cpuModel`, as the card names it. */
export const Hardware = Type.Object({
  cpuModel: Type.String(),
  cores: Type.Number(),
  ramTotal: Type.Number(),
  ramFree: Type.Number(),
  swapTotal: Type.Optional(Type.Number()),
  swapFree: Type.Optional(Type.Number()),
  gpus: Type.Array(Gpu),
  diskFree: Type.Number(),
});
export type Hardware = Static<typeof Hardware>;

/** Live load: `queueDepth` tasks wait for one of `slots`; `activeTasks` run now. */
export const Load = Type.Object({
  activeTasks: Type.Number(),
  queueDepth: Type.Number(),
  slots: Type.Number(),
  tokensPerSecond: Type.Record(Type.String(), Type.Number()),
});
export type Load = Static<typeof Load>;

/** The backend's state as a card tells it. */
export const CardBackend = Type.Object({
  state: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  url: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
});
export type CardBackend = Static<typeof CardBackend>;

// The schemas are the protocol's types, field for field: a change there fails to compile here.
const pinned: [
  Equals<Gpu, GpuInfo>,
  Equals<Hardware, HardwareInfo>,
  Equals<Load, LoadInfo>,
  Equals<CardBackend, BackendInfo>,
] = [true, true, true, true];
void pinned;
