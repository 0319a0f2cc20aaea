/**
 * Placement advice: where a model should live in the home, from each machine's memory and GPU and
 * from what its Ollama holds and has loaded, with the same memory-fit rule the router places
 * requests by. It warns before a pull that would not fit, or that would freeze a box by pushing a
 * model larger than its memory into swap (the seed's freezing mini-PC).
 */
import { BYTES_PER_PARAMETER_Q4 } from './constants.js';
import { type MemoryFit, memoryFit } from './memory-fit.js';
import { compareIds, isChatModel, normalizeModelName, parameterBillions } from './model-names.js';
import type { CandidateModel } from './types.js';

/** One machine of the home as the advice sees it. */
export interface AdviceMachine {
  id: string;
  name: string;
  /** Physical RAM, bytes. */
  ramTotalBytes: number;
  /** RAM available to new processes, bytes. */
  ramFreeBytes: number;
  /** GPUs the backend can use. */
  gpuCount: number;
  /** VRAM over those GPUs, bytes. */
  vramTotalBytes: number;
  /** Free VRAM over those GPUs, bytes. */
  vramFreeBytes: number;
  /** Models its Ollama holds, loaded or not. */
  models: Array<Pick<CandidateModel, 'name' | 'sizeBytes' | 'loaded'>>;
}

/** A model the advice is asked about, in the home or not. */
export interface AdviceModel {
  name: string;
  /** Size in bytes when some machine holds it; absent for a model the home does not have yet. */
  sizeBytes?: number;
  /** Ollama's `details.parameter_size`, when known. */
  parameterSize?: string;
  family?: string;
  capabilities?: string[];
}

/** What pulling or loading a model would do on one machine. */
export type FitVerdict =
  /** Fits the free memory (VRAM on a GPU machine) as it is. */
  | 'fits'
  /** Fits once Ollama unloads the other models loaded there. */
  | 'fits-after-unload'
  /** Fits the machine's memory, but not what is free now. */
  | 'not-now'
  /** Larger than the machine's memory: loading it would swap the box into a freeze. */
  | 'too-big';

/** The advice for one model on one machine. */
export interface MachineAdvice {
  id: string;
  name: string;
  verdict: FitVerdict;
  fit: MemoryFit;
  /** The machine's own memory that the model loads into, bytes (VRAM total on a GPU machine). */
  capacityBytes: number;
  /** Whether its Ollama holds the model already. */
  present: boolean;
  /** Whether the model is loaded there now. */
  loaded: boolean;
  /** The largest chat model of the home that fits there, when this one does not. */
  alternative?: string;
}

/** The advice for one model over the whole home. */
export interface ModelAdvice {
  model: string;
  /** Size on disk, bytes (known or estimated). */
  sizeBytes: number;
  /** Whether the size came from a machine that holds it, from the parameter count, or is unknown. */
  sizeSource: 'home' | 'estimated' | 'unknown';
  /** Size plus the safety margin, bytes. */
  neededBytes: number;
  /** The machine it should live on, when one fits. */
  best?: { id: string; name: string };
  /** Every machine, best first. */
  machines: MachineAdvice[];
  /** One warning per machine where a pull would fail to load or freeze the box. */
  warnings: string[];
  /** The advice in one paragraph, e.g. "llama3.1:8b needs ~5.9 GB; office has 21 GB free and a GPU: put it there." */
  text: string;
}

/** Byte size of a model from its parameter count (`8.0B`, or the `:8b` of its tag), Q4_K_M assumed. */
export function estimateModelBytes(model: AdviceModel): number | undefined {
  if (model.parameterSize !== undefined && model.parameterSize !== '') {
    return (
      parameterBillions({ parameterSize: model.parameterSize, sizeBytes: 0 }) * 1e9 * BYTES_PER_PARAMETER_Q4
    );
  }
  const tag = /:(?:[a-z-]*-)?(\d+(?:\.\d+)?)([bm])(?:$|[-_])/i.exec(normalizeModelName(model.name));
  if (tag?.[1] === undefined) return undefined;
  const billions = Number.parseFloat(tag[1]) * (tag[2]?.toLowerCase() === 'm' ? 1e-3 : 1);
  return billions * 1e9 * BYTES_PER_PARAMETER_Q4;
}

const VERDICT_ORDER: Record<FitVerdict, number> = {
  fits: 0,
  'fits-after-unload': 1,
  'not-now': 2,
  'too-big': 3,
};

/**
 * Advice for `model` over `machines`. `catalogue` is every model of the home, from which a machine
 * too small for `model` is offered the largest chat model that fits it. `requests` (per model name,
 * what the home asked for lately) breaks ties between alternatives of the same size.
 */
export function adviseModel(
  model: AdviceModel,
  machines: readonly AdviceMachine[],
  catalogue: readonly AdviceModel[] = [],
  options: { margin?: number; requests?: Readonly<Record<string, number>> } = {},
): ModelAdvice {
  const name = normalizeModelName(model.name);
  const held = machines.flatMap((m) => m.models).filter((m) => normalizeModelName(m.name) === name);
  const homeSize = held.reduce((max, m) => Math.max(max, m.sizeBytes), 0);
  const estimated = homeSize > 0 ? undefined : (model.sizeBytes ?? estimateModelBytes(model));
  const sizeBytes = homeSize > 0 ? homeSize : (estimated ?? 0);
  const sizeSource =
    homeSize > 0 || (model.sizeBytes ?? 0) > 0 ? 'home' : estimated !== undefined ? 'estimated' : 'unknown';

  const perMachine = machines.map((machine): MachineAdvice => {
    const own = machine.models.find((m) => normalizeModelName(m.name) === name);
    const fit = fitOn(machine, sizeBytes, name, options.margin);
    const capacityBytes = machine.gpuCount > 0 ? machine.vramTotalBytes : machine.ramTotalBytes;
    const verdict: FitVerdict = fit.fits
      ? 'fits'
      : fit.fitsAfterUnload
        ? 'fits-after-unload'
        : fit.neededBytes <= capacityBytes
          ? 'not-now'
          : 'too-big';
    const advice: MachineAdvice = {
      id: machine.id,
      name: machine.name,
      verdict,
      fit,
      capacityBytes,
      present: own !== undefined,
      loaded: own?.loaded === true,
    };
    if (verdict === 'not-now' || verdict === 'too-big') {
      const alternative = bestAlternative(machine, name, catalogue, machines, options);
      if (alternative !== undefined) advice.alternative = alternative;
    }
    return advice;
  });
  perMachine.sort(
    (a, b) =>
      VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] ||
      Number(b.loaded) - Number(a.loaded) ||
      // A machine that holds it already needs no pull at all.
      Number(b.present) - Number(a.present) ||
      Number(b.fit.memory === 'vram') - Number(a.fit.memory === 'vram') ||
      b.fit.freeBytes - b.fit.neededBytes - (a.fit.freeBytes - a.fit.neededBytes) ||
      compareIds(a.id, b.id),
  );
  const neededBytes = perMachine[0]?.fit.neededBytes ?? sizeBytes;
  const top = perMachine[0];
  const best =
    top !== undefined && sizeSource !== 'unknown' && VERDICT_ORDER[top.verdict] <= 1 ? top : undefined;
  const warnings = perMachine
    .filter((m) => sizeSource !== 'unknown' && m.verdict === 'too-big')
    .map((m) =>
      // Ollama splits a model too big for VRAM between GPU and CPU: slow, but the box stays usable.
      m.fit.memory === 'vram'
        ? `${model.name} does not fit the GPU of ${m.name}: it needs ~${formatGB(neededBytes)} and the GPU has ${formatGB(m.capacityBytes)} of VRAM, so most of it would run from RAM, slowly.`
        : `Pulling ${model.name} onto ${m.name} would freeze it: it needs ~${formatGB(neededBytes)} and ${m.name} has ${formatGB(m.capacityBytes)} of RAM.`,
    );
  return {
    model: model.name,
    sizeBytes,
    sizeSource,
    neededBytes,
    ...(best !== undefined ? { best: { id: best.id, name: best.name } } : {}),
    machines: perMachine,
    warnings,
    text: adviceText(model.name, sizeSource, neededBytes, best, perMachine, machines),
  };
}

/** Advice for every model of the home, largest first. */
export function adviseHome(
  machines: readonly AdviceMachine[],
  catalogue: readonly AdviceModel[],
  options: { margin?: number; requests?: Readonly<Record<string, number>> } = {},
): ModelAdvice[] {
  return catalogue
    .map((model) => adviseModel(model, machines, catalogue, options))
    .sort((a, b) => b.sizeBytes - a.sizeBytes || compareIds(a.model, b.model));
}

function fitOn(
  machine: AdviceMachine,
  sizeBytes: number,
  except: string,
  margin: number | undefined,
): MemoryFit {
  return memoryFit(
    {
      memory: {
        ramFreeBytes: machine.ramFreeBytes,
        vramFreeBytes: machine.vramFreeBytes,
        gpuCount: machine.gpuCount,
      },
      models: machine.models.map((m) => ({ ...m, name: normalizeModelName(m.name) })),
    },
    sizeBytes,
    { margin, except },
  );
}

/** The largest chat model of the home (most asked for among equals) that fits `machine`. */
function bestAlternative(
  machine: AdviceMachine,
  except: string,
  catalogue: readonly AdviceModel[],
  machines: readonly AdviceMachine[],
  options: { margin?: number; requests?: Readonly<Record<string, number>> },
): string | undefined {
  const sizeOf = (m: AdviceModel): number =>
    machines
      .flatMap((x) => x.models)
      .filter((x) => normalizeModelName(x.name) === normalizeModelName(m.name))
      .reduce((max, x) => Math.max(max, x.sizeBytes), m.sizeBytes ?? 0);
  const fitting = catalogue
    .filter((m) => normalizeModelName(m.name) !== except && isChatModel(m))
    .map((m) => ({ model: m, size: sizeOf(m) }))
    .filter(
      ({ model, size }) =>
        size > 0 && fitOn(machine, size, normalizeModelName(model.name), options.margin).fitsAfterUnload,
    );
  fitting.sort(
    (a, b) =>
      parameterBillions({ ...b.model, sizeBytes: b.size }) -
        parameterBillions({ ...a.model, sizeBytes: a.size }) ||
      (options.requests?.[b.model.name] ?? 0) - (options.requests?.[a.model.name] ?? 0) ||
      compareIds(a.model.name, b.model.name),
  );
  return fitting[0]?.model.name;
}

function adviceText(
  model: string,
  sizeSource: ModelAdvice['sizeSource'],
  neededBytes: number,
  best: MachineAdvice | undefined,
  ranked: readonly MachineAdvice[],
  machines: readonly AdviceMachine[],
): string {
  if (sizeSource === 'unknown')
    return `The size of ${model} is unknown: pull it onto the machine with the most free memory.`;
  const parts = [`${model} needs ~${formatGB(neededBytes)}`];
  if (best !== undefined) {
    const where = best.fit.memory === 'vram' ? ' free and a GPU' : ' free';
    const action = `${best.present ? (best.loaded ? 'it is loaded there' : 'it is there already') : 'put it there'}${best.verdict === 'fits-after-unload' ? ' (loading it unloads other models)' : ''}`;
    parts.push(`; ${best.name} has ${formatGB(best.fit.freeBytes)}${where}: ${action}.`);
  } else {
    const roomiest = [...ranked].sort(
      (a, b) => b.fit.freeBytes + b.fit.reclaimableBytes - (a.fit.freeBytes + a.fit.reclaimableBytes),
    )[0];
    parts.push(
      roomiest === undefined
        ? '; no machine is online.'
        : `; no machine has that free (the most is ${formatGB(roomiest.fit.freeBytes + roomiest.fit.reclaimableBytes)} on ${roomiest.name}).`,
    );
  }
  for (const m of ranked) {
    if (m.alternative === undefined || (m.verdict !== 'too-big' && m.verdict !== 'not-now')) continue;
    const machine = machines.find((x) => x.id === m.id);
    const gpu = (machine?.gpuCount ?? 0) > 0 ? 'a GPU' : 'no GPU';
    parts.push(
      ` ${capitalise(m.name)} (${formatGB(machine?.ramTotalBytes ?? 0)}, ${gpu}) is better with ${m.alternative}.`,
    );
  }
  return parts.join('');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `5.1 GB`, or `21 GB` from ten up: the advice reads like a sentence, not a table. */
export function formatGB(bytes: number): string {
  const gb = bytes / 1e9;
  return gb >= 10 ? `${Math.round(gb)} GB` : `${gb.toFixed(1)} GB`;
}
